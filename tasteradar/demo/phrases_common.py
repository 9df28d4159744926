"""Phrase banks shared by every author: need cues, everyday telco talk, price, switching, the trend, noise.

``{B}`` is the brand a sentence is about and ``{C}`` a second brand (the competitor praised, switched to or
from). ``{obj}`` is a need's wanted thing (from ``world.NEEDS``); ``Tpl`` is in ``tasteradar.demo.phrases``.
"""

from __future__ import annotations

from tasteradar.demo.phrases import N, P, U

GLOBAL_SLOTS: dict[str, list[str]] = {
    "when": ["tonight", "this morning", "again today", "all week", "since Monday", "every evening", "today",
             "this weekend", "for the third day running", "lately", "yesterday", "right now", "at lunch",
             "on my commute", "after 6pm", "since the weekend"],
    "where": ["on the train", "downtown", "in town", "at home", "at work", "on the bus", "in the city centre",
              "at uni", "in my flat", "on the motorway", "at my parents'", "by the station",
              "in the suburbs"],
    "home": ["Lagos", "Mumbai", "Manila", "São Paulo", "Nairobi", "Karachi", "Hanoi", "Bogotá", "Accra",
             "Dhaka", "Cairo", "Kathmandu", "India", "Nigeria", "Brazil", "China", "Vietnam", "Pakistan",
             "the Philippines", "Ghana", "Colombia"],
    "region": ["Europe", "the EU", "Mexico", "Canada", "Asia", "the US", "Japan", "South America", "the UK",
               "Thailand", "Australia"],
    "upload": ["5", "10", "20", "15"],
    "hotspot": ["5", "10", "15", "20"],
    "budget": ["15", "20", "12", "18"],
    "device": ["GPS tracker", "security camera", "Raspberry Pi", "smart meter", "dashcam", "car tracker",
               "weather station", "pet tracker", "4G router"],
    "phone": ["my Pixel", "the iPhone", "my Galaxy", "an older iPhone", "my watch", "the Apple Watch"],
    "pass_price": ["5", "7", "10", "12"],
    "outage": ["outage", "network outage", "no-signal day", "service blip", "mass outage"],
    "area": ["my street", "the office", "the stadium", "downtown", "my building", "the tube",
             "the countryside",
             "my village", "the high street", "the park", "the gym", "the hospital car park"],
    "speed_bad": ["(2|3|0.5) Mbps", "dial-up speeds", "one bar", "E instead of 5G", "(1|2) bars"],
    "speed_good": ["(150|220|310|480) Mbps", "full bars", "proper 5G", "(fibre|wifi)-level speeds"],
    "wait": ["(40|45|90) minutes", "two hours", "an hour", "(35|55) minutes"],
    "fee": ["$(5|8|12) (extra|fee)", "a surprise (£|$)(15|20) "
        "charge", "a 'service fee'", "roaming charges I never used"],
    "plan": ["{plan_name}"],
    "plan_name": ["Unlimited Plus", "my Unlimited Plus plan", "the Unlimited Plus plan"],
}  # fmt: skip

#: Need cues: each voices ``{obj}`` (the need) toward ``{B}``. The sentence is the need phrase.
NEED_CUES = [
    U("I wish {B} (had|offered|did) {obj}"),
    N("why can't {B} [just ](offer|give us|do) {obj}"),
    U("please add {obj}, {B}"),
    U("{B} please add {obj}"),
    N("no option to get {obj} on {B}"),
    N("still waiting for {B} to (add|roll out|launch) {obj}"),
    U("would stay with {B} forever if they (added|offered) {obj}"),
    N("{B} really (needs|should have) {obj}"),
    N("is it too much to ask {B} for {obj}"),
    U("any plans for {obj}, {B}?"),
    U("(dear|hey) {B}, {obj} (please|pls)"),
    N("how does {B} still not have {obj}"),
    U("{B} when are you (adding|getting) {obj}?"),
    N("the one thing missing at {B} is {obj}"),
    U("if only {B} had {obj}"),
    U("would [happily ]pay {B} extra for {obj}"),
    U("can {B} [please ]get {obj} [already]"),
    N("it's 2026 and {B} still doesn't (have|offer) {obj}"),
    U("(does|will) {B} ever (do|offer) {obj}?"),
    N("(begging|asking) {B} for {obj} (again|for the 5th time)"),
    U("{B} (pls|please) consider {obj}"),
]
#: Cues said by someone on another carrier: the need is why they would come to ``{B}``.
ACQUISITION_CUES = [
    U("would switch to {B} if they had {obj}"),
    U("(would|I'd) (move|come) (to|over to) {B} (in a heartbeat|tomorrow) if they offered {obj}"),
    U("the day {B} (gets|launches) {obj} I'm (switching|porting over)"),
]
#: Short cues after a competitor's praise (the praise names the need): ``{C}`` positive, ``{B}`` negative.
GAP_CUES = [
    N("why can't {B} do the same"),
    N("{B} (take notes|pls copy this|your move)"),
    N("come on {B}"),
    N("meanwhile {B}... (nothing|crickets)"),
    N("(and|yet) {B} (still|just) (shrugs|has nothing)"),
]

#: Everyday telco talk that any author might post, by topic.
GENERIC: dict[str, dict[str, list]] = {
    "coverage": {
        "pos": [P("{B} signal in {area} is (actually|surprisingly) good now"),
                P("full bars on {B} in {area}, (who knew|finally)"),
                P("not bad at all, {B} coverage (in|around) {area}", negation=True)],
        "neg": [N("{B} has (zero|no) signal in {area} {when}"),
                N("(why|how) is {B} still (one bar|dead) in {area}"),
                N("(love|adore) walking to the window to get {B} signal in {area}. (modern "
                    "life|great)", sarcasm=True),
                N("not happy with {B} coverage in {area} (at all|tbh)", negation=True)],
        "neu": [U("how's {B} coverage in {area}?"), U("(anyone|does anyone) get {B} signal in {area}?")],
    },
    "speed": {
        "pos": [P("{B} (pulling|hitting) {speed_good} {where}"), P("{B} 5G is (fast|quick) {when}, "
            "(nice|impressed)")],
        "neg": [N("{B} (crawling|stuck) at {speed_bad} {where} {when}"),
                N("(oh good|great), {B} back to {speed_bad} {where}. (amazing|love it)", sarcasm=True)],
        "neu": [U("(ran|did) a speed test on {B} {where}: {speed_good} "
            "down"), U("is {B} (throttling|slow) {when} or is it me")],
    },
    "billing": {
        "pos": [P("{B} refunded (the|that) {fee} without a fight, (respect|nice one)")],
        "neg": [N("{B} (hit|charged) me with {fee} (again|this month)"),
                N("(fantastic|lovely), {fee} on my {B} bill. (thanks|cheers)", sarcasm=True),
                N("not happy about {fee} on the {B} bill", negation=True)],
        "neu": [U("(what|why) is {fee} on my {B} bill?"), U("{B} bill went up this month, (anyone know "
            "why|checking why)")],
    },
    "service": {
        "pos": [P("{B} support (sorted|fixed) it in (five|ten) minutes, (legends|thank you)"),
                P("shoutout to the {B} chat agent who fixed my (SIM|number) {when}"),
                P("not bad at all, {B} support (actually|really) helped", negation=True)],
        "neg": [N("on hold with {B} for {wait} {when}"),
                N("{B} support (hung up|disconnected) (on me|the chat) after {wait}"),
                N("(love|nothing beats) explaining my problem to {B} for the (fourth|fifth) time. "
                    "(great|fun) service",
                  sarcasm=True)],
        "neu": [U("what's the fastest way to reach a human at "
            "{B}?"), U("{B} support hours (on|at) weekends?")],
    },
    "outage": {
        "pos": [P("{B} back up after the {outage}, (quick fix|well done)")],
        "neg": [N("{B} {outage} (again|for the second time this week) in {area}"),
                N("(great|perfect), another {B} {outage}, love paying for this", sarcasm=True),
                N("is {B} down? (nothing|no data) in {area} {when}")],
        "neu": [U("{B} down (for anyone else|in {area}?)"), U("{B} status page says (all good|no issues) "
            "but hmm")],
    },
    "app": {
        "pos": [P("the new {B} app is (clean|actually nice|so much better)")],
        "neg": [N("{B} app (logged me out|crashed) (again|three times) {when}"),
                N("(wonderful|brilliant) {B} app update, now nothing (loads|works)", sarcasm=True)],
        "neu": [U("can you (change|top up) your plan in the {B} app?")],
    },
    "value": {
        "pos": [P("{B} is (great|good) value for what I pay"), P("(happy|been happy) with {B} for "
            "(two|three|four) years now"),
                P("not bad at all for the price, {B}", negation=True)],
        "neg": [N("{B} getting (pricier|worse) every year"), N("not worth it anymore, {B}", negation=True)],
        "neu": [U("{B} or the big networks, what's the (difference|catch)?")],
    },
    "host": {
        "pos": [P("{B} is on {C}'s towers for half the price, (no brainer|easy choice)", c="neu"),
                P("same network as {C} but cheaper, {B} (ftw|is the move)", c="neu")],
        "neg": [N("{B} gets deprioritised on {C}'s network (every evening|at peak times)", c="neu"),
                N("my mate on {C} has full bars and I'm on {B} with (nothing|one bar), same "
                    "towers??", c="pos")],
        "neu": [U("{B} runs on {C}'s network right?", c="neu"),
                U("does {B} get the same 5G as {C} or (not|a slower tier)?", c="neu")],
    },
}  # fmt: skip

#: Switching away from ``{B}`` toward ``{C}`` (intent "switch", from_brand B, to_brand C).
SWITCH = [
    N("thinking of switching from {B} to {C}", c="neu"),
    P("left {B} for {C}, so much better", b="neg", c="pos"),
    U("just ported my number from {B} to {C}[, (painless|easy)]", b="neg", c="neu"),
    U("{C} is offering (double data|$10 off|a free month), might jump ship from {B}", b="neg", c="pos"),
    N("moving to {C} next month, {B} you had your chance", c="neu"),
    N("(done|finished) with {B}, {C} here I come", c="pos"),
    U("anyone moved from {B} to {C}? (worth it|any regrets)?", b="neu", c="neu"),
    U("got my port-out PIN from {B}, (off to|going to) {C}", b="neg", c="neu"),
    N("(seriously|honestly) considering {C} after (this|another) month of {B}", c="neu"),
    P("(why|how) did I not switch from {B} to {C} (sooner|years ago)", b="neg", c="pos"),
]
#: Switching talk triggered by the price change (toward the one planted competitor).
PRICE_SWITCH = [
    N("switching to {C} after the {B} price hike", c="neu"),
    N("porting out to {C}, {B} raised prices for (nothing|the same service)", c="neu"),
    U("price hike? bye {B}, hello {C}", b="neg", c="pos"),
    N("{B} wants $5 more a month for the same service? {C} it is", c="neu"),
    N("(that|the) {B} price rise (was|is) the last straw, (moving|off) to {C}", c="neu"),
    U(
        "(half|most) of my group chat is moving from {B} to {C} after the price (hike|increase)",
        b="neg",
        c="neu",
    ),
    N("{C} (still costs|is still) ${old} while {B} (jumps|goes up) to ${new}. (easy|simple) choice", c="pos"),
]
#: Complaints about the price change without a switch.
PRICE_COMPLAINT = [
    N(
        "{B} just (bumped|raised|hiked) {plan} (from ${old} to ${new}|by $5)[ a month] for (nothing|the "
        "same service)"
    ),
    N("$5 more for {plan}? (seriously|really) {B}"),
    N("(great|lovely), a {B} price hike email. (just what I needed|thanks so much)", sarcasm=True),
    N("the {B} price rise is (steep|ridiculous|not ok)"),
    U("understand costs go up but {B} +$5 on {plan} is a lot"),
    U("{B} raising {plan} to ${new} (fyi|heads up)"),
    N("not happy about the {B} price increase on {plan}", negation=True),
]
#: Leaving without naming where to (intent "churn").
CHURN = [
    N("cancelling {B} (tomorrow|this week|today)"),
    N("(done|so done) with {B}. cancelling (at the end of the month|when my contract ends)"),
    U("how do I cancel {B}? (asking for me|the website is a maze)"),
    N("that's it, I'm leaving {B}"),
    N("(ending|not renewing) my {B} contract"),
    N("(calling|called) {B} to cancel, (wish me luck|45 minutes of retention offers)"),
    N("(can't|cannot) wait to be rid of {B}"),
]
#: After the move: ``{B}`` is the old brand (negative), ``{C}`` the new one (positive).
SWITCHED = [
    P(
        "(three weeks|a month|two weeks) on {C} after leaving {B}, (no regrets|so much better)",
        b="neg",
        c="pos",
    ),
    P("should have switched from {B} to {C} (sooner|years ago)", b="neg", c="pos"),
    P("{C} > {B}, (not even close|fight me)", b="neg", c="pos"),
    P("(left|ditched) {B} for {C} and my (bill|signal) is (finally|actually) sane", b="neg", c="pos"),
]
#: Someone arriving at ``{B}`` from competitor ``{C}`` (intent "switch", from C to B).
WELCOME = [
    P("just switched from {C} to {B}, (half the price|same coverage for less)", c="neg"),
    P("(moved|ported) to {B} from {C} (last week|today), so far so good", c="neg"),
    U("(thinking|planning) to move from {C} to {B}, (any tips|anything to know)?", b="neu", c="neg"),
    P("{C} wanted (£|$)(60|70|80) a month, {B} does it for (half|$30). (bye|see ya) {C}", c="neg"),
]
#: The emerging trend, voiced without a need cue (the cue form uses ``NEED_CUES`` with the trend need).
TREND = [
    U("does {B} support satellite texting yet?"),
    P(
        "texted home from (a trail|the middle of nowhere|a campsite) via satellite on {C}, (wild|amazing)",
        b="neu",
        c="pos",
    ),
    U(
        "{C} just (turned on|launched) SOS via satellite, (when is|any news on) {B} getting it?",
        b="neu",
        c="pos",
    ),
    U("is satellite messaging coming to {B}? (hiking|camping|road trip) next (week|month)"),
    P("satellite SOS (helped|saved) a hiker near (us|here) last week. {B} needs this", b="neg", c=None),
    U(
        "(tried|testing) satellite texting (on|with) {C} (today|this weekend), (slow but it works|took a "
        "minute)",
        b="neu",
        c="pos",
    ),
    U("(everyone|my whole feed) is talking about satellite texting, {B} (any news|what's the plan)?"),
]

#: Noise: openers and closers by sentiment ("any" goes with every label), emoji, abbreviations, hashtags.
OPENERS: dict[str, list[str]] = {
    "any": [
        "ngl",
        "tbh",
        "honestly",
        "ok so",
        "lol",
        "fr",
        "update:",
        "PSA:",
        "welp",
        "so",
        "istg",
        "lowkey",
        "not gonna lie",
        "hot take:",
        "real talk",
        "quick one:",
        "random but",
    ],
    "neg": ["ugh", "smh", "bruh", "seriously", "wtf", "ffs", "sigh"],
    "pos": ["yay", "ok", "shoutout:", "wow", "love this:"],
    "neu": ["question:", "quick q:", "hmm", "genuine question"],
}
CLOSERS: dict[str, list[str]] = {
    "any": ["ngl", "tbh", "fr", "lol", "imo", "idk"],
    "neg": ["smh", "ffs", "unreal", "sigh", "fix it", "every single time", "so annoying", "not ok", "smfh"],
    "pos": ["10/10", "love it", "no complaints", "big fan", "well done", "happy days", "respect"],
    "neu": ["thoughts?", "anyone?", "asking for a friend", "tia", "just curious", "fyi"],
}
EMOJI: dict[str, list[str]] = {
    "neg": ["😤", "😡", "🙄", "😩", "💀", "😒", ":(", ":/", "🤬", "😑", ">:("],
    "pos": ["🙌", "🔥", "😍", "👍", "💯", ":)", ":D", "✨", "🥳", "<3", "😊"],
    "neu": ["🤔", "👀", "📶", "📱", "🤷", "...", "🧐"],
    "sarcasm": ["🙄", "🙃", "😒", "👏👏", "🤡"],
}
ABBREVIATIONS: dict[str, str] = {
    "you": "u", "are": "r", "because": "bc", "people": "ppl", "really": "rly", "though": "tho",
    "tonight": "tonite", "please": "pls", "thanks": "thx", "probably": "prob", "something": "smth",
    "with": "w/", "about": "abt", "before": "b4", "right now": "rn", "minutes": "mins", "seriously": "srsly",
    "your": "ur", "and": "&", "okay": "ok", "message": "msg",
}  # fmt: skip
GENERIC_HASHTAGS = [
    "mvno",
    "5G",
    "customerservice",
    "telco",
    "mobiledata",
    "fail",
    "deals",
    "phone",
    "esim",
    "wireless",
]
#: Reddit self-posts get one of these when the body would otherwise be a single sentence.
REDDIT_EXTRAS = [
    "Anyone else?",
    "Has anyone had luck with this?",
    "Edit: typo",
    "Any advice appreciated.",
    "Long time lurker, first post.",
    "Am I missing something?",
    "Thanks in advance!",
    "EDIT: support said they're 'looking into it'.",
    "Curious what others think.",
    "Not sure if this is the right sub.",
    "TL;DR see title.",
    "Would love some input here.",
]
