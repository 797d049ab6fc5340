#!/usr/bin/env python3
"""Collects every @tr("…") msgid from app/ui/*.slint into i18n/kontor.pot and merges it
into i18n/{de,en}/LC_MESSAGES/kontor.po: existing translations are kept, new msgids are
added with an empty msgstr (the test app/tests/ui_translations.rs then fails until
someone translates them into German), msgids no longer used are dropped.

Usage: python3 scripts/i18n-extract.py   (from anywhere; no dependencies)
"""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
UI = ROOT / "app" / "ui"
I18N = ROOT / "i18n"
LANGS = ["de", "en"]

# @tr("text") or @tr("ctx" => "text") with escaped quotes inside; plurals
# @tr("one" | "many" % n) give msgid + msgid_plural.
STRING = r'"((?:[^"\\]|\\.)*)"'
TR = re.compile(r"@tr\(\s*" + STRING + r"(?:\s*\|\s*" + STRING + r")?")


def extract():
    seen = {}
    for path in sorted(UI.glob("*.slint")):
        text = path.read_text(encoding="utf-8")
        for m in TR.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            key = (m.group(1), m.group(2))
            seen.setdefault(key, []).append(f"{path.relative_to(ROOT)}:{line}")
    return seen


def parse_po(path):
    """msgid (and plural) -> list of msgstr, from a simple gettext file."""
    entries = {}
    if not path.exists():
        return entries
    cur = {}
    field = None

    def flush():
        if "msgid" in cur:
            key = (cur["msgid"], cur.get("msgid_plural"))
            strs = [cur[k] for k in sorted(k for k in cur if k.startswith("msgstr"))]
            entries[key] = strs
        cur.clear()

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            if not line:
                flush()
            continue
        m = re.match(r"(msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+" + STRING + "$", line)
        if m:
            if m.group(1) == "msgid" and "msgid" in cur:
                flush()
            field = m.group(1)
            cur[field] = m.group(2)
        elif line.startswith('"') and field:
            cur[field] += line[1:-1]
    flush()
    return entries


def entry(key, refs, strs, lang):
    msgid, plural = key
    out = [f"#: {' '.join(refs)}"]
    out.append(f'msgid "{msgid}"')
    if plural is not None:
        out.append(f'msgid_plural "{plural}"')
        strs = strs if len(strs) == 2 else ["", ""]
        out += [f'msgstr[{i}] "{s}"' for i, s in enumerate(strs)]
    else:
        out.append(f'msgstr "{strs[0] if strs else ""}"')
    return "\n".join(out)


def header(lang):
    lines = [
        'msgid ""',
        'msgstr ""',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
    ]
    if lang:
        lines.append(f'"Language: {lang}\\n"')
    lines.append('"Plural-Forms: nplurals=2; plural=(n != 1);\\n"')
    return "\n".join(lines)


def main():
    found = extract()
    pot = [header(None)] + [entry(k, refs, [], None) for k, refs in found.items()]
    (I18N / "kontor.pot").write_text("\n\n".join(pot) + "\n", encoding="utf-8")
    for lang in LANGS:
        path = I18N / lang / "LC_MESSAGES" / "kontor.po"
        old = parse_po(path)
        old.pop(("", None), None)
        parts = [header(lang)]
        missing = 0
        for key, refs in found.items():
            strs = old.get(key, [])
            if not any(strs):
                missing += 1
            parts.append(entry(key, refs, strs, lang))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(parts) + "\n", encoding="utf-8")
        print(f"{lang}: {len(found)} strings, {missing} untranslated")


if __name__ == "__main__":
    main()
