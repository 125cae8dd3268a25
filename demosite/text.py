"""Writing an ad: title and text from drawn features, with the evidence recorded.

Every indicator phrase goes into the text verbatim and is returned beside it, so the
ground truth says exactly which words carry which category.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from demosite.data import ETHNICITIES, FILLERS, INDICATORS, NAMES, TAGLINES, UPDATES

HOSTILE_PAYLOADS = {
    "script": "<script>alert(document.cookie)</script>",
    "onerror": '<img src=x onerror="alert(1)">',
    "javascript_link": '<a href="javascript:alert(1)">klik hier</a>',
    "entity_tricks": "&lt;script&gt;alert(1)&lt;/script&gt; &#60;b&#62;vet&#60;/b&#62; &amp;amp;",
    "huge_text": "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 2000,
}


@dataclass(frozen=True)
class Features:
    """What an ad says, drawn once per ad; the text is rendered from it."""

    lang: str  # nl | en | mixed
    name: str
    name2: str  # second woman for "several women, one contact"; "" otherwise
    voice: str  # first | third | multiple
    age: int
    tagline_pick: int
    ethnicity: int  # index in ETHNICITIES, -1 for none
    phrases: tuple[tuple[str, int], ...]  # (category, phrase index)
    fillers: tuple[int, ...]
    sentence_langs: tuple[str, ...]  # language of each sentence slot (for mixed ads)
    hostile: str  # kind, "" for none


def draw_features(rng: random.Random, hostile: bool) -> Features:
    lang = rng.choices(("nl", "en", "mixed"), weights=(45, 35, 20))[0]
    voice = rng.choices(("first", "third", "multiple"), weights=(77, 15, 8))[0]
    youth = rng.random() < 0.15
    age = rng.randint(18, 21) if youth else rng.randint(19, 45)
    # youth phrases go with a young stated age; trust and movement with any ad
    wanted = {"trust": rng.random() < 0.25, "youth": youth, "movement": rng.random() < 0.2}
    phrases = [(c, rng.randrange(3)) for c in ("trust", "youth", "movement") if wanted[c]]
    name, name2 = rng.sample(NAMES, 2)
    return Features(
        lang=lang, name=name, name2=name2 if voice == "multiple" else "", voice=voice,
        age=age, tagline_pick=rng.randrange(4),
        ethnicity=rng.randrange(len(ETHNICITIES)) if rng.random() < 0.3 else -1,
        phrases=tuple(phrases),
        fillers=tuple(rng.sample(range(5), rng.randint(1, 2))),
        sentence_langs=tuple(_slot_lang(rng, lang) for _ in range(12)),
        hostile=rng.choice(sorted(HOSTILE_PAYLOADS)) if hostile else "",
    )


def _slot_lang(rng: random.Random, lang: str) -> str:
    return rng.choice(("nl", "en")) if lang == "mixed" else lang


@dataclass(frozen=True)
class Written:
    title: str
    text: str
    indicators: dict[str, tuple[str, ...]]  # category → evidence strings in the text


def compose(f: Features, town: str, phones: list[str], updates: list[int],
            obscured: list[str]) -> Written:
    """Title and text of one version; ``updates`` are the text changes so far."""
    langs = iter(f.sentence_langs)
    evidence: dict[str, list[str]] = {}
    intro = _intro(f, next(langs))
    if f.voice == "third":
        evidence["third_person"] = ["she is" if "she is" in intro else "zij is"]
    if f.voice == "multiple":
        evidence["multiple_women"] = [f"{f.name} {'and' if ' and ' in intro else 'en'} {f.name2}"]
    lines = [intro]
    if f.hostile:
        lines.append(HOSTILE_PAYLOADS[f.hostile])
    if f.ethnicity >= 0:
        lang = next(langs)
        word = ETHNICITIES[f.ethnicity][0 if lang == "nl" else 1]
        lines.append(f"{word} {'schoonheid' if lang == 'nl' else 'beauty'}.")
        evidence["ethnicity"] = [word]
    for category, pick in f.phrases:
        phrase = INDICATORS[category][next(langs)][pick]
        sentence = phrase[0].upper() + phrase[1:]
        lines.append(sentence + "!")
        evidence.setdefault(category, []).append(sentence)
    lang = next(langs)
    lines.append(f"Ontvangst in {town}." if lang == "nl" else f"Incall in {town}.")
    lines.extend(FILLERS[next(langs)][k] for k in f.fillers)
    lang = next(langs)
    contact = ("Bel of app: " if lang == "nl" else "Call or WhatsApp: ") + " / ".join(phones)
    if f.voice == "multiple":
        contact += " (één nummer voor ons allebei)" if lang == "nl" else " (one number for both of us)"
    if obscured:
        evidence["obscured_phone"] = list(obscured)
    text = " ".join(lines) + "\n" + contact
    for rev, pick in enumerate(updates):
        text += "\n" + UPDATES[f.sentence_langs[(rev + 7) % 12]][pick % 4]
    return Written(_title(f), text, {k: tuple(v) for k, v in sorted(evidence.items())})


def _intro(f: Features, lang: str) -> str:
    if f.voice == "multiple":
        if lang == "nl":
            return f"Wij zijn {f.name} en {f.name2}, twee vriendinnen."
        return f"We are {f.name} and {f.name2}, two friends."
    if f.voice == "third":
        if lang == "nl":
            return f"Dit is {f.name}, zij is {f.age} jaar."
        return f"This is {f.name}, she is {f.age} years old."
    return f"Hoi, ik ben {f.name}, {f.age} jaar." if lang == "nl" else (
        f"Hi, I am {f.name}, {f.age} years old.")


def _title(f: Features) -> str:
    tagline = TAGLINES["en" if f.lang == "en" else "nl"][f.tagline_pick]
    who = f"{f.name} & {f.name2}" if f.name2 else f"{f.name} ({f.age})"
    title = f"{who} - {tagline}"
    if f.hostile == "script":
        title = HOSTILE_PAYLOADS["script"] + " " + title
    return title
