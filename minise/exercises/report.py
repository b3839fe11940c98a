"""How grades are written: text for people, CSV or JSON Lines for gradebooks and scripts.

Every file's grade is written, and flushed, as soon as it is known: if a later file of a batch
misbehaves (or the batch is stopped), the grades before it are already on disk. Text output is for
reading (a solution's words appear only indented behind "|", and never as the word the verdict
uses); the CSV and JSON are the machine interface:

  file, exercise, seed, score, maximum, passed, status, then one column per check (pass / fail /
  empty where the check does not apply to the exercise), error, failures (the first line of each
  failed check's message), note, confinement.

JSON Lines: one object per line with the same fields, and "checks" as a list of
{"name", "passed", "scored", "message"}.
"""
import csv
import json

from .checker_exercise import CHECKER_CHECKS
from .checks import CHECKS

ALL_CHECKS = [c for c, _, _ in CHECKS + CHECKER_CHECKS]

FIELDS = ["file", "exercise", "seed", "score", "maximum", "passed", "status"] + ALL_CHECKS + \
         ["error", "failures", "note", "confinement"]


def row(grade):
    """The grade as a flat dict (the CSV's columns)."""
    out = {"file": grade.path, "exercise": grade.exercise or "", "seed": grade.seed, "score": grade.score,
           "maximum": grade.total, "passed": "yes" if grade.passed else "no", "status": grade.status,
           "error": (grade.error or "").replace("\n", " | "), "note": grade.note,
           "confinement": grade.confinement or ""}
    out.update({c: "" for c in ALL_CHECKS})
    out.update({check: "pass" if passed else "fail" for check, passed, _ in grade.results})
    out["failures"] = " || ".join(f"{check}: {message.splitlines()[0] if message else ''}"
                                  for check, passed, message in grade.results if not passed)
    return out


def as_json(grade):
    record = {k: v for k, v in row(grade).items() if k not in ALL_CHECKS}
    record.update(passed=grade.passed, error=grade.error, checks=[
        {"name": check, "passed": passed, "scored": check in grade.scored, "message": message}
        for check, passed, message in grade.results])
    return json.dumps(record, ensure_ascii=False)


class Writer:
    """Writes grades to ``stream`` in ``format`` (text, csv or json), flushing after each one."""

    def __init__(self, stream, format="text"):
        self.stream, self.format = stream, format
        self.csv = None
        if format == "csv":
            self.csv = csv.DictWriter(stream, FIELDS, lineterminator="\n")
            self.csv.writeheader()
            stream.flush()

    def write(self, grade):
        if self.format == "csv":
            self.csv.writerow(row(grade))
        elif self.format == "json":
            self.stream.write(as_json(grade) + "\n")
        else:
            self.stream.write(str(grade) + "\n")
        self.stream.flush()
