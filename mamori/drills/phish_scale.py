"""Detection difficulty by the NIST Phish Scale: how many cues a mail shows × how well its premise fits.

Steves, Greene & Theofanos, "Categorizing human phishing difficulty: a Phish Scale" (NIST, 2020). Few cues
and a premise that fits the recipients' work make a mail very difficult to detect; many cues and a premise
that does not fit make it the least difficult. Shown to administrators as 難 / 中 / 易.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CueCount(models.TextChoices):
    FEW = "few", _("少ない（1〜8）")
    SOME = "some", _("中程度（9〜14）")
    MANY = "many", _("多い（15以上）")


class Difficulty(models.TextChoices):
    VERY = "very", _("難")
    MODERATELY = "moderately", _("中")
    LEAST = "least", _("易")


# (premise alignment, cue count) → difficulty, the scale's table as published.
DIFFICULTY_TABLE = {
    ("high", CueCount.FEW): Difficulty.VERY,
    ("high", CueCount.SOME): Difficulty.VERY,
    ("high", CueCount.MANY): Difficulty.MODERATELY,
    ("medium", CueCount.FEW): Difficulty.VERY,
    ("medium", CueCount.SOME): Difficulty.MODERATELY,
    ("medium", CueCount.MANY): Difficulty.LEAST,
    ("low", CueCount.FEW): Difficulty.MODERATELY,
    ("low", CueCount.SOME): Difficulty.LEAST,
    ("low", CueCount.MANY): Difficulty.LEAST,
}


def cue_count_category(cue_count: int) -> CueCount:
    """The scale's three bands. A mail with no cue at all is counted with the few."""
    if cue_count >= 15:
        return CueCount.MANY
    if cue_count >= 9:
        return CueCount.SOME
    return CueCount.FEW


def detection_difficulty(cue_count: int, premise_alignment: str) -> Difficulty:
    """``premise_alignment`` is ``Scenario.PremiseAlignment`` (high / medium / low)."""
    return DIFFICULTY_TABLE[(premise_alignment, cue_count_category(cue_count))]


def scenario_difficulty(scenario) -> Difficulty:
    cue_count = scenario.cue_count if scenario.cue_count is not None else len(scenario.cues)
    return detection_difficulty(cue_count, scenario.premise_alignment)
