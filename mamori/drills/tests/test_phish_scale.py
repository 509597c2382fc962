from django.test import SimpleTestCase

from mamori.drills.models import Scenario
from mamori.drills.phish_scale import CueCount, Difficulty, cue_count_category, detection_difficulty

# Counts inside each band: few 1–8, some 9–14, many 15+.
FEW, SOME, MANY = 5, 12, 20


class PhishScaleTests(SimpleTestCase):
    def test_cue_counts_fall_into_the_scales_bands(self):
        self.assertEqual(cue_count_category(1), CueCount.FEW)
        self.assertEqual(cue_count_category(8), CueCount.FEW)
        self.assertEqual(cue_count_category(9), CueCount.SOME)
        self.assertEqual(cue_count_category(14), CueCount.SOME)
        self.assertEqual(cue_count_category(15), CueCount.MANY)

    def test_high_premise_alignment(self):
        self.assertEqual(detection_difficulty(FEW, "high"), Difficulty.VERY)
        self.assertEqual(detection_difficulty(SOME, "high"), Difficulty.VERY)
        self.assertEqual(detection_difficulty(MANY, "high"), Difficulty.MODERATELY)

    def test_medium_premise_alignment(self):
        self.assertEqual(detection_difficulty(FEW, "medium"), Difficulty.VERY)
        self.assertEqual(detection_difficulty(SOME, "medium"), Difficulty.MODERATELY)
        self.assertEqual(detection_difficulty(MANY, "medium"), Difficulty.LEAST)

    def test_low_premise_alignment(self):
        self.assertEqual(detection_difficulty(FEW, "low"), Difficulty.MODERATELY)
        self.assertEqual(detection_difficulty(SOME, "low"), Difficulty.LEAST)
        self.assertEqual(detection_difficulty(MANY, "low"), Difficulty.LEAST)

    def test_difficulties_read_as_hard_middle_easy(self):
        self.assertEqual(
            [Difficulty.VERY.label, Difficulty.MODERATELY.label, Difficulty.LEAST.label], ["難", "中", "易"]
        )

    def test_a_scenario_counts_its_listed_cues_unless_a_total_is_given(self):
        scenario = Scenario(cues=[{"label": "差出人"}] * 4, premise_alignment=Scenario.PremiseAlignment.LOW)
        self.assertEqual(scenario.difficulty, Difficulty.MODERATELY)
        scenario.cue_count = 16
        self.assertEqual(scenario.difficulty, Difficulty.LEAST)
