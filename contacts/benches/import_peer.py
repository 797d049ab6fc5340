"""Peer for benches/import.rs: the same vCard file, parsed and normalised in Python.

Parses every card with `vobject` and normalises every TEL with `phonenumbers`
to E.164 (default region DE), the work kontor-contacts does before it merges,
seals and writes. The bench runs this in the same run on the same file and
reports the ratio. Prints one JSON object on stdout.

Usage: python import_peer.py FILE.vcf
"""

import json
import resource
import sys
import time

import phonenumbers
import vobject


def normalise(raw, region="DE"):
    """E.164 form of `raw`, or None (same cleaning as kontor's phone.rs)."""
    cleaned = raw.strip().replace("(0)", "")
    if not any(c.isdigit() for c in cleaned) or len(cleaned) > 64:
        return None
    try:
        number = phonenumbers.parse(cleaned, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def peak_rss_kib():
    """This process's peak RSS. Not getrusage: on Linux its ru_maxrss carries
    the parent's peak across fork + exec, and the parent is the Rust bench."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main(path):
    start = time.perf_counter()
    with open(path, encoding="utf-8", newline="") as f:
        text = f.read()
    cards = tels = valid = 0
    for card in vobject.readComponents(text, ignoreUnreadable=True):
        cards += 1
        for tel in card.contents.get("tel", []):
            tels += 1
            value = tel.value if isinstance(tel.value, str) else str(tel.value)
            if value.startswith("tel:"):
                value = value[4:]
            if normalise(value) is not None:
                valid += 1
    seconds = time.perf_counter() - start
    peak_kib = peak_rss_kib()
    print(
        json.dumps(
            {
                "seconds": seconds,
                "cards": cards,
                "tels": tels,
                "valid": valid,
                "peak_rss_mib": peak_kib / 1024,
                "phonenumbers": phonenumbers.__version__,
                "vobject": getattr(vobject, "VERSION", "?"),
                "python": sys.version.split()[0],
            }
        )
    )


if __name__ == "__main__":
    main(sys.argv[1])
