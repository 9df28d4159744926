"""Customers: CRM import, consent-gated linking of posts to customers, the customer view, churn risk, erasure.

A post links to a customer only through a handle that customer opted in (``customer_handles.consent = 1``),
matched per platform after normalisation; never by name or guess. Authors who are not linked count in
aggregates only.
"""
