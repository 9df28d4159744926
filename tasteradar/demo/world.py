"""The demo market: dates, brands, broad segments, planted micro-segments and their unmet needs.

Everything here is static data. The generator draws from it with a seeded random stream, so one seed always
builds the same world. Nothing here knows about the store or the payload shapes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

#: Bump when a change to the generator changes its output: ``demo_is_current`` then asks for a rebuild.
GENERATOR_VERSION = "demo.world.v2"

#: The last day of the window (fixed, so the world never depends on today's date).
END_DATE = date(2026, 10, 31)
#: Length of the window in days; day 0 is ``START_DATE`` and day ``DAYS - 1`` is ``END_DATE``.
DAYS = 120
START_DATE = END_DATE - timedelta(days=DAYS - 1)
#: The emerging trend ramps up over the last ``TREND_DAYS`` days.
TREND_DAYS = 21
TREND_START_DAY = DAYS - TREND_DAYS
#: The own brand raises the price of one plan on this day; switching talk toward one competitor follows.
PRICE_CHANGE_DAY = 80
PRICE_PLAN = "Unlimited Plus"
PRICE_OLD = 35.0
PRICE_NEW = 40.0


def day_start(day: int) -> datetime:
    """Midnight UTC at the start of window day ``day`` (0-based)."""
    moment = datetime.combine(START_DATE, datetime.min.time(), tzinfo=UTC)
    return moment + timedelta(days=day)


@dataclass(frozen=True)
class Brand:
    """A brand of the market, with the surface forms people use for it in posts.

    ``mentions`` are (surface form, weight): what a post writes when it names the brand inline. Typos and
    shortenings that appear there are also in ``aliases``, so a matcher built from the config finds them.
    """

    key: str
    name: str
    aliases: tuple[str, ...]
    handles: tuple[str, ...]
    hashtags: tuple[str, ...]
    mentions: tuple[tuple[str, int], ...]
    host_network: bool = False
    subreddit: str | None = None
    own: bool = False


OWN = Brand(
    key="nimbus",
    name="Nimbus Mobile",
    aliases=("Nimbus", "NimbusMobile", "NimbusMob", "Nimbs", "Nimbus Moblie"),
    handles=("NimbusMobile", "NimbusHelp"),
    hashtags=("nimbusmobile",),
    mentions=(
        ("Nimbus", 30), ("nimbus", 16), ("Nimbus Mobile", 14), ("nimbus mobile", 8), ("@NimbusMobile", 14),
        ("@NimbusHelp", 5), ("NimbusMob", 4), ("NIMBUS", 2), ("Nimbs", 2), ("Nimbus Moblie", 1),
        ("nimbusmobile", 2),
    ),
    subreddit="NimbusMobile",
    own=True,
)  # fmt: skip
HOST = Brand(
    key="titan",
    name="Titan Telecom",
    aliases=("Titan", "TitanTel"),
    handles=("TitanTelecom", "TitanCares"),
    hashtags=("titantelecom",),
    mentions=(("Titan", 40), ("titan", 14), ("Titan Telecom", 16), ("@TitanTelecom", 14), ("TitanTel", 4),
              ("@TitanCares", 3)),
    host_network=True,
    subreddit="TitanTelecom",
)  # fmt: skip
VOLT = Brand(
    key="volt",
    name="Volt Mobile",
    aliases=("Volt",),
    handles=("VoltMobile",),
    hashtags=("voltmobile",),
    mentions=(("Volt", 44), ("volt", 14), ("Volt Mobile", 16), ("@VoltMobile", 16), ("volt mobile", 4)),
    subreddit="VoltMobile",
)
ORBIT = Brand(
    key="orbit",
    name="Orbit Wireless",
    aliases=("Orbit",),
    handles=("OrbitWireless",),
    hashtags=("orbitwireless",),
    mentions=(("Orbit", 44), ("orbit", 12), ("Orbit Wireless", 20), ("@OrbitWireless", 16)),
)
PEBBLE = Brand(
    key="pebble",
    name="Pebble Mobile",
    aliases=("Pebble",),
    handles=("PebbleMobile",),
    hashtags=("pebblemobile",),
    mentions=(("Pebble", 44), ("pebble", 12), ("Pebble Mobile", 20), ("@PebbleMobile", 14)),
)
BRANDS: tuple[Brand, ...] = (OWN, HOST, VOLT, ORBIT, PEBBLE)
COMPETITORS: tuple[Brand, ...] = BRANDS[1:]
BRAND_BY_KEY = {brand.key: brand for brand in BRANDS}
#: The competitor that wins the switching talk after the price change.
SWITCH_TARGET = VOLT
#: Share of non-customer authors who are on each brand (they talk mostly about their own carrier).
AUDIENCE_CARRIERS = (("nimbus", 46), ("titan", 20), ("volt", 15), ("orbit", 12), ("pebble", 7))


@dataclass(frozen=True)
class Need:
    """An unmet need: what people wish the brand offered.

    ``objects`` are noun phrases for the wanted thing (they follow "I wish Nimbus had ..."); ``gap`` names the
    competitor praised for already offering it and ``gap_praise`` the phrases praising it.
    """

    id: str
    label: str
    objects: tuple[str, ...]
    gap: str | None = None
    gap_praise: tuple[str, ...] = ()
    emerging: bool = False


@dataclass(frozen=True)
class MicroSegment:
    """A planted micro-segment inside one broad segment: its tastes, its needs and how it behaves."""

    id: str
    name: str
    broad_segment: str
    weight: float
    tastes: tuple[str, ...]
    needs: tuple[str, ...]
    subreddits: tuple[str, ...]
    hashtags: tuple[str, ...]
    churn_effect: float = 0.0
    data_gb: float = 10.0
    extra: dict[str, float] = field(default_factory=dict)


BROAD_SEGMENTS: tuple[tuple[str, float], ...] = (
    ("prepaid youth", 0.34),
    ("family postpaid", 0.30),
    ("small business", 0.16),
    ("seniors", 0.20),
)

NEEDS: tuple[Need, ...] = (
    Need("low_latency_gaming", "low latency for mobile gaming",
         ("(stable|low|decent) ping for (gaming|online games)", "a gaming mode with (low|lower) latency",
          "a (low latency|low-latency) option for gamers", "(priority|prioritised) traffic for gaming",
          "ping that doesn't spike every evening", "a network that can handle (ranked|competitive) games"),
         gap="titan", gap_praise=("(gaming|ping) on {C} is (so much smoother|way more stable)",
                                  "{C} gives gamers (priority|proper) data and it shows")),
    Need("cheap_calls_home", "cheap international calls home",
         ("cheap[er] calls (home|abroad) to {home}", "an international calling add-on that isn't a ripoff",
          "(affordable|fair) rates for calling {home}", "a bundle of international minutes (to|for) {home}"),
         gap="pebble", gap_praise=("{C} does calls to {home} for (pennies|almost nothing)",
                                   "{C}'s international minutes are (a steal|so cheap)")),
    Need("messaging_bundle", "messaging app bundle",
         ("a WhatsApp bundle", "(free|unmetered) messaging apps", "a (chat|messaging) pass for WhatsApp & "
             "WeChat",
          "WhatsApp that doesn't eat my data", "zero-rated (WhatsApp|messaging)")),
    Need("upload_speed", "faster upload speeds",
         ("(decent|faster|better) upload speeds", "upload speeds that don't crawl",
          "an upload speed above {upload} Mbps", "(proper|real) upload for (posting videos|creators)"),
         gap="orbit", gap_praise=("{C} uploads my (videos|reels) in seconds",
                                  "upload on {C} is (twice as fast|miles better)")),
    Need("hotspot_allowance", "bigger hotspot allowance",
         ("a bigger hotspot allowance", "more than {hotspot}GB of hotspot", "(unlimited|uncapped) tethering",
          "a hotspot cap that isn't (tiny|a joke)", "(proper|real) hotspot data"),
         gap="volt", gap_praise=("{C} gives you (50|60|unlimited) gigs of hotspot",
                                 "{C}'s hotspot allowance is (huge|actually usable)")),
    Need("no_contract_deal", "cheap no-contract plan",
         ("a cheap[er] plan with no contract", "a no-contract deal under ${budget}",
          "(a|one) SIM-only plan without a contract", "a (cheaper|budget) plan I can cancel anytime"),
         gap="pebble", gap_praise=("{C} is ${budget} a month with no contract", "{C}'s no-contract deal is "
             "(unbeatable|so cheap)")),
    Need("parental_controls", "parental controls",
         ("(proper|decent|real) parental controls", "parental controls that actually work",
          "a way to (limit|pause) my kid's data", "screen time controls for the kids' lines",
          "content filters for (my kids|the kids' phones)"),
         gap="orbit", gap_praise=("{C}'s parental controls are (great|really good)",
                                  "{C} lets you pause the kids' data from the app")),
    Need("family_data_sharing", "family data sharing",
         ("a shared data pool for the family", "(proper|simple) family data sharing",
          "a way to move data between our lines", "one data bucket for (all|the four) of us")),
    Need("data_only_sim", "data-only SIMs for devices",
         ("a (cheap|proper) data-only SIM", "data-only SIMs for (my|our) {device}",
          "an IoT plan for (sensors|gadgets)", "a (cheap|small) SIM for my {device}"),
         gap="titan", gap_praise=("{C} has data-only SIMs for (like|about) $5",)),
    Need("roaming_pass", "roaming pass",
         ("a (proper|decent|daily|cheap) roaming pass", "roaming that doesn't cost a fortune",
          "a travel pass for {region}", "(affordable|sane) roaming in {region}"),
         gap="volt", gap_praise=("{C}'s roaming pass is (great|brilliant|a lifesaver)",
                                 "{C} has a ${pass_price} day pass for {region}")),
    Need("esim_support", "eSIM support",
         ("eSIM support", "(proper|working) eSIM activation", "an eSIM (option|I can set up in the app)",
          "eSIM on {phone}"),
         gap="orbit", gap_praise=("{C} did my eSIM in (two|five) minutes", "{C} has had eSIM for ages")),
    Need("business_invoicing", "business invoicing",
         ("proper VAT invoices", "(a|one) business invoice for all (my|our) lines",
          "downloadable invoices (with|showing) VAT", "invoices my accountant can [actually ]use"),
         gap="titan", gap_praise=("{C} business sends one (clean|tidy) invoice with VAT",)),
    Need("business_lines", "multiple business lines",
         ("a (simple|cheap) way to add lines for (staff|my team)", "multi-SIM business plans",
          "one account for all (my|the shop's) SIMs", "(bulk|extra) SIMs for staff"),
         gap="titan", gap_praise=("{C} set up (five|six|ten) staff lines in one go",)),
    Need("video_call_quality", "reliable video calls",
         ("video calls that don't (freeze|drop)", "(stable|reliable) Zoom calls on mobile data",
          "a connection good enough for (Teams|Zoom|Meet) calls", "(calls|meetings) that stay HD")),
    Need("in_store_help", "in-store help",
         ("a (real|proper) store to get help", "someone in a shop to help me set up my phone",
          "in-store help (for|with) setting things up", "a person to talk to (in person|face to face)"),
         gap="titan", gap_praise=("the {C} shop (staff|lady|man) set everything up for me",
                                  "{C} has a store on (the high street|Main Street) with (lovely|patient) "
                                      "staff")),
    Need("simple_phone", "simple phone",
         ("a simple phone with big buttons", "a (basic|simple) phone (option|on the plan)",
          "a phone that just (calls|makes calls) and texts", "an easy phone for (my mum|my dad|seniors)")),
    Need("home_phone_service", "home phone service",
         ("a home phone service", "a landline replacement", "a (desk|home) phone that uses the mobile "
             "network",
          "a way to keep my (old|landline) number at home")),
    Need("wifi_calling", "wifi calling",
         ("wifi calling", "Wi-Fi calling (for|on) {phone}", "calling over (wifi|my broadband) at home",
          "(working|proper) wifi calling"),
         gap="volt", gap_praise=("{C} turned on wifi calling and (now|suddenly) calls work indoors",)),
    Need("satellite_sos", "satellite texting and SOS", emerging=True,
         objects=("satellite texting", "SOS via satellite", "(satellite|sat) messaging",
                  "texting over satellite (when there's no signal|in dead zones)"),
         gap="titan", gap_praise=("{C} just (switched on|launched) satellite texting",)),
)  # fmt: skip
NEED_BY_ID = {need.id: need for need in NEEDS}
TREND_NEED = "satellite_sos"

MICRO_SEGMENTS: tuple[MicroSegment, ...] = (
    MicroSegment("mobile_gamers", "Mobile gamers", "prepaid youth", 0.30,
                 ("competitive mobile games", "late-night ranked "
                     "sessions", "esports streams", "gaming phones"),
                 ("low_latency_gaming",), ("MobileGaming", "CODMobile"),
                 ("gaming", "mobilegaming", "esports"),
                 churn_effect=0.3, data_gb=35),
    MicroSegment("international_students", "International students", "prepaid youth", 0.25,
                 ("calling family abroad", "messaging apps", "student budgets", "campus life"),
                 ("cheap_calls_home", "messaging_bundle"), ("IntlStudents", "studyabroad"),
                 ("studyabroad", "intlstudent"), churn_effect=0.45, data_gb=18, extra={"intl_minutes": 420}),
    MicroSegment("content_creators", "Creators", "prepaid youth", 0.20,
                 ("posting videos", "live streaming", "shooting content on location", "growing an audience"),
                 ("upload_speed", "hotspot_allowance"), ("NewTubers", "TikTokCreators"),
                 ("creator", "contentcreator", "smallyoutuber"), churn_effect=0.2, data_gb=48),
    MicroSegment("budget_switchers", "Budget switchers", "prepaid youth", 0.25,
                 ("cheapest deals", "comparing plans", "SIM-only offers", "no commitment"),
                 ("no_contract_deal",), ("budget", "personalfinance"), ("deals", "simonly", "budget"),
                 churn_effect=0.9, data_gb=8),
    MicroSegment("parents", "Parents", "family postpaid", 0.45,
                 ("kids' first phones", "school runs", "family plans", "screen time"),
                 ("parental_controls", "family_data_sharing"), ("Parenting", "daddit"),
                 ("momlife", "parenting"),
                 churn_effect=-0.3, data_gb=26),
    MicroSegment("smart_home_tinkerers", "Smart-home tinkerers", "family postpaid", 0.25,
                 ("home automation", "trackers and sensors", "DIY gadgets", "security cameras"),
                 ("data_only_sim",), ("homeautomation", "smarthome"), ("smarthome", "iot", "homeassistant"),
                 churn_effect=0.1, data_gb=15, extra={"devices": 4}),
    MicroSegment("frequent_travellers", "Frequent travellers", "family postpaid", 0.30,
                 ("trips abroad", "airport lounges", "travel hacks", "eSIM phones"),
                 ("roaming_pass", "esim_support"), ("travel", "onebag"), ("travel", "wanderlust", "esim"),
                 churn_effect=0.25, data_gb=20, extra={"roaming_days": 14}),
    MicroSegment("shop_owners", "Small shop owners", "small business", 0.55,
                 ("running a small shop", "card readers", "staff rotas", "bookkeeping"),
                 ("business_invoicing", "business_lines"), ("smallbusiness", "Entrepreneur"),
                 ("smallbusiness", "shoplocal"), churn_effect=-0.2, data_gb=12),
    MicroSegment("remote_workers", "Remote workers", "small business", 0.45,
                 ("working from anywhere", "video meetings", "laptops on the go", "coworking"),
                 ("hotspot_allowance", "video_call_quality"), ("remotework", "digitalnomad"),
                 ("remotework", "wfh", "digitalnomad"), churn_effect=0.15, data_gb=42),
    MicroSegment("simple_seniors", "Seniors who want simple phones", "seniors", 0.60,
                 ("simple phones", "help in person", "calling the grandchildren", "large text"),
                 ("in_store_help", "simple_phone"), ("seniors", "AskOldPeople"), ("seniors", "grandparents"),
                 churn_effect=-0.8, data_gb=2),
    MicroSegment("home_phone_seniors", "Seniors replacing the landline", "seniors", 0.40,
                 ("the old landline", "calls at home", "keeping the old number", "hearing aids"),
                 ("home_phone_service", "wifi_calling"), ("seniors", "AskOldPeople"),
                 ("retirement", "seniors"),
                 churn_effect=-0.6, data_gb=3),
)  # fmt: skip
SEGMENT_BY_ID = {segment.id: segment for segment in MICRO_SEGMENTS}


def segments_of(broad_segment: str) -> tuple[MicroSegment, ...]:
    """The micro-segments planted inside one broad segment, in definition order."""
    return tuple(segment for segment in MICRO_SEGMENTS if segment.broad_segment == broad_segment)


def audience_weight(segment: MicroSegment) -> float:
    """How common a micro-segment is among all authors (broad share times share inside the broad segment)."""
    broad = dict(BROAD_SEGMENTS)[segment.broad_segment]
    return broad * segment.weight


def definitions() -> dict:
    """The market as plain data for truth.json: brands, micro-segments and needs."""
    return {
        "brands": [
            {"key": b.key, "name": b.name, "own": b.own, "host_network": b.host_network,
             "aliases": list(b.aliases), "handles": list(b.handles), "hashtags": list(b.hashtags),
             "mention_forms": [form for form, _ in b.mentions]}
            for b in BRANDS
        ],
        "broad_segments": [name for name, _ in BROAD_SEGMENTS],
        "micro_segments": [
            {"id": s.id, "name": s.name, "broad_segment": s.broad_segment, "tastes": list(s.tastes),
             "needs": list(s.needs)}
            for s in MICRO_SEGMENTS
        ],
        "needs": [
            {"id": n.id, "label": n.label, "emerging": n.emerging,
             "gap_competitor": BRAND_BY_KEY[n.gap].name if n.gap else None,
             "segments": [s.id for s in MICRO_SEGMENTS if n.id in s.needs]}
            for n in NEEDS
        ],
    }  # fmt: skip
