"""Topics, need themes and emerging tastes (issue 5): fitted on stored embeddings, never re-embedding.

- :mod:`nlp.topics.model`: the saved topic model (centroids, labels, terms) and its light assignment path.
- :mod:`nlp.topics.fit`: the BERTopic fit over a sample of stored embeddings, with outlier reduction.
- :mod:`nlp.topics.lineage`: stable ids across refits (matching old to new) and the lineage events.
- :mod:`nlp.topics.themes`: need phrases clustered into named themes, and the competitor gap.
- :mod:`nlp.topics.trends`: emerging-series detection against each series' own baseline.
"""
