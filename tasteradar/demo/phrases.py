"""Phrase banks for the planted micro-segments: what each group talks about, in many phrasings.

Each segment has ``slots`` (its own vocabulary), sentences by sentiment (``pos``/``neu``/``neg``) that always
name a brand as ``{B}``, and ``context`` sentences without a brand that give a post its flavour. Templates use
the grammar of :mod:`tasteradar.demo.grammar`. ``Tpl`` carries the truth a template plants.
"""

from __future__ import annotations

from typing import NamedTuple


class Tpl(NamedTuple):
    """A sentence template with the sentiment it plants.

    ``sentiment`` is the post-level label; ``b`` and ``c`` the labels toward ``{B}`` and ``{C}`` when they
    differ from it (``b`` defaults to ``sentiment``, ``c`` to neutral).
    """

    text: str
    sentiment: str
    b: str | None = None
    c: str | None = None
    sarcasm: bool = False
    negation: bool = False


def P(text: str, **kw) -> Tpl:  # noqa: N802 - short constructors keep the banks readable
    """A positive template."""
    return Tpl(text, "pos", **kw)


def N(text: str, **kw) -> Tpl:  # noqa: N802
    """A negative template."""
    return Tpl(text, "neg", **kw)


def U(text: str, **kw) -> Tpl:  # noqa: N802
    """A neutral template."""
    return Tpl(text, "neu", **kw)


SEGMENT_BANKS: dict[str, dict] = {
    "mobile_gamers": {
        "slots": {
            "game": [
                "ranked",
                "CoD Mobile",
                "PUBG Mobile",
                "Genshin",
                "Clash Royale",
                "Apex Mobile",
                "Fortnite",
                "Brawl Stars",
                "a tournament qualifier",
                "scrims",
                "Valorant Mobile",
                "Mobile Legends",
            ],
            "good_ping": ["2(0|5|8)ms", "3(1|4|9)ms", "sub-40", "a steady 30ms", "(single|low) digit jitter"],
            "bad_ping": ["(2|3|4)(00|50)ms", "(6|8|9)00 ping", "over a second", "four digits"],
            "match": ["match", "round", "game", "lobby", "ranked game", "squad fight"],
        },
        "pos": [
            P("{B} held {good_ping} ping through (a whole|my entire) {game} (session|grind) {when}"),
            P("[honestly ]{B} (has been|was) (solid|smooth|clean) for {game} {when}"),
            P("(won|clutched) (my|a) {game} {match} on {B} data {where}, zero lag"),
            P("not a single lag spike on {B} during {game} {when}", negation=True),
            P("{B} 5G + {game} = (buttery|smooth) {match}es, (love it|no complaints)"),
            P("(finally|actually) hit (my|a) new rank in {game} on {B} {where}"),
        ],
        "neg": [
            N("{B} ping (spiking|jumping) to {bad_ping} mid {match} {when}"),
            N("lost (a|my) {game} (streak|{match}) because {B} (dropped|lagged) (out|again)"),
            N("{B} (lag|rubber-banding) in {game} is (unreal|unplayable|a joke) {when}"),
            N(
                "(great|amazing), {B} lagged out right at the end of (a|my) {game} {match}, love that for me",
                sarcasm=True,
            ),
            N("not happy with {B} for gaming, {game} is (unplayable|a slideshow) {when}", negation=True),
            N("{B} turns every {game} {match} into a lag fest after 8pm"),
        ],
        "neu": [
            U("anyone (playing|grinding) {game} on {B}? how's the ping {where}"),
            U("(what's|whats) (the|your) ping like on {B} for {game}?"),
            U("(testing|trying) {game} on {B} (5G|data) {when}, will report back"),
            U("is {B} any good for {game} or should I (stick to wifi|get a gaming router)"),
        ],
        "context": [
            "(grinding|playing) {game} (all night|every evening|after class)",
            "(ranked|tournament) season (just started|is back)",
            "(my|our) squad plays {game} (most nights|every weekend)",
            "(got|bought) a (gaming phone|cooling fan|trigger grip) for {game}",
            "streaming my {game} {match}es (to|for) like (12|20|40) viewers lol",
        ],
    },
    "international_students": {
        "slots": {
            "family": ["my mum", "my parents", "my family", "my little brother", "my grandma", "my dad"],
            "app": ["WhatsApp", "WeChat", "Telegram", "Messenger", "Viber", "Line"],
            "campus": ["the library", "campus", "the dorms", "halls", "the student union", "my lecture hall"],
        },
        "pos": [
            P("{B} (works|is fine) for {app} calls (to|with) {family} (back home|in {home})"),
            P("(pleasantly surprised|happy) {B} (works|has signal) in {campus} [tbh]"),
            P("{B} student plan + {app} = talking to {family} every night (for cheap|without stressing)"),
            P("not a bad deal from {B} for a broke student ngl", negation=True),
            P(
                "(video called|rang) {family} in {home} for an hour on {B} [data] and it was (crystal "
                "clear|perfect)"
            ),
        ],
        "neg": [
            N(
                "{B} (charged me|wanted) (£|$)(12|18|25) for a (ten|15) minute call to {home}. "
                "(why|seriously)"
            ),
            N("{B} signal in {campus} is (non-existent|dead|awful), can't even send a {app} voice note"),
            N(
                "(wow|great), {B} ate my data (in a week|already) just from {app}, love being a student",
                sarcasm=True,
            ),
            N("{app} calls to {family} keep (dropping|freezing) on {B} {when}"),
            N("{B} is not cheap for students (at all|whatever the ads say)", negation=True),
        ],
        "neu": [
            U("which is better for calling {home}, {B} or just {app} on wifi?"),
            U("does {B} have a student discount? (just moved here|first term) from {home}"),
            U("(new|first week) in the country, (got|picked up) a {B} SIM at (the airport|{campus})"),
        ],
        "context": [
            "(just moved here|first semester here) from {home}",
            "calling {family} (every Sunday|twice a week|every night) (back home|in {home})",
            "(exam season|reading week) (and|so) (I live in|stuck in) {campus}",
            "(on|living on) a (tiny|student) budget this (term|year)",
            "{family} (only|mostly) uses {app}",
        ],
    },
    "content_creators": {
        "slots": {
            "content": [
                "a 4K vlog",
                "my reels",
                "a TikTok",
                "a YouTube short",
                "a livestream",
                "raw footage",
                "my weekly video",
                "a behind-the-scenes clip",
                "a 2GB edit",
            ],
            "platform_app": ["YouTube", "TikTok", "Instagram", "Twitch", "the Drive folder"],
            "location": [
                "a shoot in the park",
                "location",
                "the festival",
                "a brand shoot",
                "the beach",
                "a market",
            ],
        },
        "pos": [
            P("uploaded {content} to {platform_app} from {location} on {B} in (minutes|no time)"),
            P("{B} 5G (carried|saved) my whole livestream {when}, (zero|no) drops"),
            P("(shot and posted|edited and posted) {content} entirely on {B} data {where} [, creator life]"),
            P("not bad at all, {B} upload held up for {content}", negation=True),
        ],
        "neg": [
            N("{B} upload (crawling|stuck) at (0.8|1.2|2) Mbps while I try to post {content}"),
            N("(missed|blew) my posting (window|schedule) because {B} (upload|hotspot) died at {location}"),
            N(
                "(love|adore) watching {content} sit at 3% for an hour on {B}. (great|fantastic) for "
                "creators",
                sarcasm=True,
            ),
            N(
                "{B} livestream (dropped|froze) (three|four|five) times {when}, {platform_app} chat was "
                "(roasting|laughing at) me"
            ),
            N("{B} hotspot (throttled|died) halfway through uploading {content}"),
        ],
        "neu": [
            U("creators on {B}, what upload speeds are you (getting|seeing) {where}?"),
            U("(thinking|planning) to livestream from {location} on {B}, will it hold?"),
            U("is {B} ok for posting {content} on the go or do I need a better plan"),
        ],
        "context": [
            "(posting|uploading) {content} (daily|three times a week) (now|these days)",
            "(shooting|filming) at {location} {when}",
            "(hit|almost at) (1k|10k|5k) followers on {platform_app}",
            "(my|the) editing laptop lives on my phone's hotspot",
            "(livestreaming|streaming) on {platform_app} (most nights|on weekends)",
        ],
    },
    "budget_switchers": {
        "slots": {
            "price": ["$(10|12|15|18)", "(ten|twelve|fifteen) bucks", "under $20"],
            "gb": ["(10|15|20|30)GB", "(5|8)GB", "unlimited"],
            "site": ["a comparison site", "a deals forum", "the price comparison app", "r/budget"],
        },
        "pos": [
            P("{B} {gb} for {price} a month is (a steal|hard to beat|decent value)"),
            P("(switched|moved) my SIM to {B} and (saved|I'm saving) $(8|10|15) a month"),
            P("{B} promo (came through|worked), {gb} for {price}, no contract (nice|love it)"),
            P("not a bad price from {B} for {gb}", negation=True),
        ],
        "neg": [
            N(
                "{B} (wants|charging) {price} more than (what|the deal) {site} (said|showed). (nope|no "
                "thanks)"
            ),
            N(
                "{B} (loyalty|existing customer) prices are (worse|higher) than the new customer deal, "
                "(why|classic)"
            ),
            N(
                "(wow|oh nice), {B} (added|snuck in) a (fee|surcharge) (to my|on the) bill. (great value|so "
                "cheap)",
                sarcasm=True,
            ),
            N("{B} no longer the cheapest for {gb}, (time to shop around|not impressed)"),
        ],
        "neu": [
            U("is {B} still the cheapest for {gb} or has anyone found better?"),
            U("(comparing|checking) {B} vs the others on {site} {when}"),
            U("{B} SIM-only {gb} for {price}? (any catch|what's the catch)"),
        ],
        "context": [
            "(checking|browsing) {site} (every month|for deals) [like always]",
            "(hate|won't sign) contracts, month to month (only|forever)",
            "(saving|trying to save) every dollar (this year|right now)",
            "(switch|change) SIMs whenever (a better deal|a promo) shows up",
        ],
    },
    "parents": {
        "slots": {
            "kid": [
                "my (11|12|13|9) year old",
                "the kids",
                "my daughter",
                "my son",
                "our eldest",
                "the twins",
            ],
            "kidthing": ["first phone", "school phone", "tablet", "smartwatch"],
            "school": [
                "the school run",
                "football practice",
                "swim class",
                "the school gates",
                "after-school club",
            ],
        },
        "pos": [
            P("(got|set up) {kid} with a {kidthing} on {B} (easily|in ten minutes)"),
            P(
                "{B} family plan (works|is working) (great|well) for (all five of us|the four of us|the "
                "whole family)"
            ),
            P("{B} signal at {school} is (finally|actually) good, {kid} can (call|text) me"),
            P("not bad at all, {B} family bundle (saved|saves) us (a lot|money)", negation=True),
        ],
        "neg": [
            N("{kid} (burned|went) through the whole {B} data allowance (in a week|in 3 days) on YouTube"),
            N("{B} (app|account) makes it (impossible|a nightmare) to manage {kid}'s {kidthing}"),
            N("(lovely|brilliant), {B} billed me (again|extra) for {kid}'s in-app purchases", sarcasm=True),
            N("no signal at {school} on {B}, couldn't reach {kid} for an hour"),
        ],
        "neu": [
            U("(parents|fellow parents) on {B}: how do you handle {kid}'s {kidthing}?"),
            U("adding {kid} to our {B} (plan|account) {when}, anything I should know?"),
            U("which {B} plan for {kid}'s {kidthing}?"),
        ],
        "context": [
            "{kid} (just got|is getting) their {kidthing}",
            "(juggling|doing) {school} (and|plus) work",
            "family of (four|five) on one account",
            "(screen time|phone rules) (battles|arguments) at home {when}",
        ],
    },
}

SEGMENT_BANKS.update(
    {
        "smart_home_tinkerers": {
            "slots": {
                "gadget": [
                    "{device}",
                    "my Raspberry Pi",
                    "the garage sensor",
                    "a GPS tracker",
                    "the doorbell cam",
                    "my Home Assistant box",
                    "the allotment weather station",
                    "the 4G router in the shed",
                ],
                "auto": [
                    "Home Assistant",
                    "Node-RED",
                    "my Zigbee setup",
                    "my automations",
                    "the MQTT broker",
                ],
            },
            "pos": [
                P("{B} SIM in {gadget} has been (online|up) for (weeks|a month) (straight|without a hiccup)"),
                P("(hooked|wired) {gadget} into {auto} over {B} LTE, (works a treat|rock solid)"),
                P(
                    "not bad at all, {B} coverage reaches {gadget} (in the shed|at the bottom of the garden)",
                    negation=True,
                ),
            ],
            "neg": [
                N(
                    "{B} (keeps dropping|dropped) {gadget} off the network {when}, {auto} is "
                    "(sulking|confused)"
                ),
                N("paying a full phone plan on {B} just to keep {gadget} online is (silly|daft|a waste)"),
                N(
                    "(fantastic|great), {B} (disconnected|suspended) the SIM in {gadget} for "
                    "(inactivity|low usage)",
                    sarcasm=True,
                ),
            ],
            "neu": [
                U("anyone running {gadget} on a {B} SIM? (how much data|what plan) do you use"),
                U("(setting up|building) {gadget} with a {B} SIM (this weekend|{when})"),
                U("does {B} (allow|block) SIMs in routers and trackers?"),
            ],
            "context": [
                "(tinkering|messing about) with {auto} (again|all weekend)",
                "(added|installing) {gadget} to the (house|setup)",
                "(my|the) smart home has like (12|20|30) devices now",
                "(flashing|updating) firmware on {gadget} {when}",
            ],
        },
        "frequent_travellers": {
            "slots": {
                "dest": [
                    "{region}",
                    "Lisbon",
                    "Tokyo",
                    "Mexico City",
                    "Bali",
                    "Berlin",
                    "Dubai",
                    "Barcelona",
                    "Bangkok",
                    "Reykjavik",
                    "Marrakech",
                ],
                "airport": [
                    "the airport",
                    "the lounge",
                    "Heathrow",
                    "the gate",
                    "JFK",
                    "baggage claim",
                    "the layover",
                ],
            },
            "pos": [
                P("{B} (worked|connected) the second I landed in {dest}, (nice|impressed)"),
                P(
                    "{B} signal at {airport} was (great|fast) for once, (sorted|booked) my taxi (in "
                    "seconds|instantly)"
                ),
                P("not bad at all, {B} coverage (in|around) {dest} (held up|was fine)", negation=True),
            ],
            "neg": [
                N("{B} (charged|billed) me (£|$)(40|60|85) for (two|three) days of data in {dest}"),
                N("landed in {dest} and {B} (had|showed) no service for (an hour|hours)"),
                N(
                    "(love|adore) coming home from {dest} to a {B} roaming bill bigger than the flight",
                    sarcasm=True,
                ),
                N("{B} (data|signal) died at {airport} (again|right when I needed the boarding pass)"),
            ],
            "neu": [
                U("off to {dest} next (week|month), does {B} work there?"),
                U("(frequent|regular) flyers: {B} or a local SIM in {dest}?"),
                U("how does {B} do for data in {dest}?"),
            ],
            "context": [
                "(flying|off) to {dest} (next week|on Friday|again)",
                "(sitting|stuck) in {airport} (for 3 hours|again)",
                "(fourth|fifth|sixth) trip this (year|quarter)",
                "(packing|living out of) a carry-on (again|for work)",
                "(booked|just booked) flights to {dest}",
            ],
        },
        "shop_owners": {
            "slots": {
                "shop": [
                    "the shop",
                    "the cafe",
                    "my bakery",
                    "the salon",
                    "the florist",
                    "my corner shop",
                    "the barbershop",
                    "our market stall",
                ],
                "till": ["the card reader", "the till", "the payment terminal", "the POS system"],
                "staff": ["my staff", "the Saturday girl", "my two part-timers", "the team", "the new hire"],
            },
            "pos": [
                P("{B} kept {till} at {shop} online all through the (weekend rush|Saturday market)"),
                P("(sorted|set up) {staff} with {B} SIMs (quickly|in one visit), (easy|painless)"),
                P(
                    "not bad at all, {B} backup data saved {shop} when the broadband (died|went down)",
                    negation=True,
                ),
            ],
            "neg": [
                N(
                    "{B} dropped out and {till} at {shop} (stopped|couldn't take) card payments (for an "
                    "hour|at lunch)"
                ),
                N(
                    "(spent|wasted) my (Sunday|evening) (piecing together|matching) {B} bills for (my "
                    "accountant|the tax return)"
                ),
                N(
                    "(wonderful|brilliant), another {B} bill split across (four|five) accounts. (small "
                    "business|bookkeeping) heaven",
                    sarcasm=True,
                ),
                N("{B} business support (hung up|kept me on hold) while {shop} was (full|open)"),
            ],
            "neu": [
                U("small business owners on {B}: how do you (handle|manage) lines for {staff}?"),
                U("does {B} do business accounts for (a|one) small shop?"),
                U("(thinking|looking) about moving {shop}'s phones to {B}"),
            ],
            "context": [
                "(running|opened) {shop} (for six years|last spring|on my own)",
                "(doing|finished) the (books|VAT return) {when}",
                "{staff} (need|needs) phones for the rota",
                "{till} runs on mobile data",
            ],
        },
        "remote_workers": {
            "slots": {
                "meeting": [
                    "Zoom call",
                    "Teams meeting",
                    "client call",
                    "standup",
                    "Google Meet",
                    "sales demo",
                ],
                "spot": [
                    "a coworking space",
                    "the cafe",
                    "a train",
                    "my parents' place",
                    "a cabin",
                    "the campervan",
                ],
            },
            "pos": [
                P(
                    "ran a whole (day|afternoon) of {meeting}s off {B} hotspot from {spot}, (flawless|no "
                    "issues)"
                ),
                P("{B} 5G (beat|was faster than) the wifi at {spot}, (not complaining|happy days)"),
                P("not bad at all, {B} held my {meeting} together on {spot}", negation=True),
            ],
            "neg": [
                N(
                    "{B} hotspot (cut out|throttled) mid {meeting} {when}, (so embarrassing|client was not "
                    "impressed)"
                ),
                N("{B} (froze|dropped) my {meeting} (twice|three times) from {spot}"),
                N(
                    "(love|nothing like) explaining to a client that {B} (throttled|froze) me again. (very "
                    "professional|great look)",
                    sarcasm=True,
                ),
                N("hit the {B} hotspot cap by (Tuesday|Wednesday) working from {spot}"),
            ],
            "neu": [
                U("remote workers on {B}, how much hotspot do you (burn|use) a month?"),
                U("(working|going to work) from {spot} next week, is {B} good enough for {meeting}s?"),
                U("{B} or a dedicated router for working from {spot}?"),
            ],
            "context": [
                "(working|working remotely) from {spot} (this week|today|all month)",
                "(back to back|three) {meeting}s {when}",
                "(freelance|contract) work (means|so) my laptop lives on my hotspot",
                "(home|office) wifi (is|was) down so I'm (on|tethering to) my phone",
            ],
        },
        "simple_seniors": {
            "slots": {
                "grand": ["my grandson", "my granddaughter", "the grandchildren", "my daughter", "my son"],
                "phone_thing": [
                    "the new phone",
                    "the touch screen",
                    "the settings",
                    "voicemail",
                    "the text messages",
                    "the little icons",
                    "the app",
                ],
                "store": ["the shop", "the store on the high street", "the mall kiosk", "the branch in town"],
            },
            "pos": [
                P("the (lovely|kind) young man at {store} set up {phone_thing} for me, thank you {B}"),
                P("{B} has been (very|perfectly) reliable for my calls, (no complaints|very happy)"),
                P(
                    "not bad at all, {B} (helped me|sorted) {phone_thing} (on the phone|over the phone)",
                    negation=True,
                ),
            ],
            "neg": [
                N("I cannot work out {phone_thing} on this {B} phone and {grand} lives (miles|far) away"),
                N("{B} (closed|shut) {store}, now there is nobody to help me with {phone_thing}"),
                N("(wonderful|marvellous), {B} says (do it|look it up) online. I am 81", sarcasm=True),
                N("waited (40|50|65) minutes on the {B} helpline about {phone_thing}"),
            ],
            "neu": [
                U("can someone at {B} (explain|help me with) {phone_thing}?"),
                U("{grand} (says|thinks) I should get a {B} phone, is it simple to use?"),
                U("does {B} still have {store}?"),
            ],
            "context": [
                "{grand} (set up|usually helps with) {phone_thing}",
                "I am (78|81|84|73) and (not good|no good) with (gadgets|technology)",
                "(the print is|the buttons are) (too small|so small) for my eyes",
                "(I|we) only (use the phone|call) to talk to {grand}",
            ],
        },
        "home_phone_seniors": {
            "slots": {
                "landline": [
                    "the landline",
                    "the old house phone",
                    "my BT line",
                    "the phone in the hall",
                    "our old number",
                ],
                "room": [
                    "the kitchen",
                    "the back bedroom",
                    "the living room",
                    "the conservatory",
                    "upstairs",
                ],
                "aid": ["my hearing aids", "the hearing aid", "my new hearing aid"],
            },
            "pos": [
                P(
                    "(gave up|cancelled) {landline} and {B} (works|has worked) fine (around the house|in "
                    "every room)"
                ),
                P("{B} calls are (clear|loud enough) with {aid}, (very pleased|happy)"),
                P("not bad at all, {B} signal reaches {room} now", negation=True),
            ],
            "neg": [
                N(
                    "{B} has no signal in {room}, I have to stand (in the garden|by the window) to "
                    "(call|ring) anyone"
                ),
                N("(miss|I miss) {landline}, {B} calls drop (in|from) {room} (every time|all the time)"),
                N(
                    "(lovely|super), {B} dropped (my|the) call to the doctor (again|twice) from {room}",
                    sarcasm=True,
                ),
                N("{B} calls (crackle|are too quiet) with {aid}"),
            ],
            "neu": [
                U("can I (keep|move) {landline} number to {B}?"),
                U("(thinking|planning) to (get rid of|cancel) {landline}, is {B} (reliable|good) indoors?"),
                U("does {B} work with {aid}?"),
            ],
            "context": [
                "(we|I) (had|kept) {landline} for (30|40|45) years",
                "(the signal|reception) (in|from) {room} (is|has always been) (patchy|poor)",
                "(my|the) family (wants|told) me to (get rid of|drop) {landline}",
                "I wear {aid} (now|these days)",
            ],
        },
    }
)
