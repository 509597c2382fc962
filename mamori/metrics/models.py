"""Rollups: the counts the dashboards read, recomputed from deliveries and events by ``mamori.metrics.rollups``.

A page's cost grows with the rounds and the departments, never with the events: each campaign keeps a row
per department, position, employment type and scenario difficulty (and one total), each fiscal year a row
per department, position and employment type (and one total). Departments count their OWN members only;
the tree is summed by ``path`` prefix when read.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Dimension(models.TextChoices):
    TOTAL = "total", _("全体")
    DEPARTMENT = "department", _("所属")
    POSITION = "position", _("役職")
    EMPLOYMENT = "employment", _("雇用区分")
    # Per campaign only: the Phish Scale difficulty of the scenario each person received.
    DIFFICULTY = "difficulty", _("難易度")


class CampaignRollup(models.Model):
    """One campaign's counts for one group of recipients (``dimension`` × ``key``).

    Every counter counts deliveries that were sent (one per person), except the ``*_hits`` counters which
    count events. ``key`` is the department's public_id (``"-"`` for people without a department), the
    position text, the employment type, the difficulty value, or "" for the total. ``report_histogram``
    counts the reports per time-to-report bucket (``mamori.metrics.rollups.HISTOGRAM_EDGES_MINUTES``).
    """

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    campaign = models.ForeignKey("drills.Campaign", on_delete=models.CASCADE, related_name="rollups")
    # Copied from the campaign so that a fiscal year's rows are one indexed read.
    fiscal_year = models.PositiveSmallIntegerField()
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    key = models.CharField(max_length=100, blank=True)
    label = models.CharField(max_length=400, blank=True)
    # The department's materialised path (department rows only), for sub-tree sums.
    path = models.CharField(max_length=400, blank=True)
    delivered = models.PositiveIntegerField(default=0)
    reported = models.PositiveIntegerField(default=0)
    # Reported no later than the campaign's close (every report while it is open): the 期間内 report rate.
    reported_in_campaign = models.PositiveIntegerField(default=0)
    reported_within_hour = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)
    scanned = models.PositiveIntegerField(default=0)
    attachment = models.PositiveIntegerField(default=0)
    submitted = models.PositiveIntegerField(default=0)
    replied = models.PositiveIntegerField(default=0)
    failed_then_reported = models.PositiveIntegerField(default=0)
    reported_without_failure = models.PositiveIntegerField(default=0)
    # Recipients who failed the organization's previous round (and received this one) / failed both.
    previously_failed = models.PositiveIntegerField(default=0)
    repeat_failed = models.PositiveIntegerField(default=0)
    # Σ delivered × the difficulty factor of the scenario each received (see docs/metrics.md).
    weighted_delivered = models.FloatField(default=0)
    human_hits = models.PositiveIntegerField(default=0)
    automated_hits = models.PositiveIntegerField(default=0)
    pending_hits = models.PositiveIntegerField(default=0)
    report_histogram = models.JSONField(default=list)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "dimension", "key"], name="unique_campaign_rollup")]
        indexes = [models.Index(fields=["organization", "fiscal_year", "dimension"], name="campaign_rollup_fy_idx")]
        verbose_name = _("訓練実施回の集計")
        verbose_name_plural = _("訓練実施回の集計")

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.dimension} {self.label}"


class FiscalYearRollup(models.Model):
    """One organization's fiscal year for one group of staff: roster, reach, drills per person, learning.

    ``roster`` is the participation denominator (docs/metrics.md: people in post at the end of the fiscal
    year, or now for the current one, plus anyone who left during it after receiving a drill); ``leavers``
    how many of them left. ``drills_distribution[i]`` = roster people who received i drills (the last
    entry: that many or more).
    """

    organization = models.ForeignKey("core.Organization", on_delete=models.CASCADE, related_name="+")
    fiscal_year = models.PositiveSmallIntegerField()
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    key = models.CharField(max_length=100, blank=True)
    label = models.CharField(max_length=400, blank=True)
    path = models.CharField(max_length=400, blank=True)
    roster = models.PositiveIntegerField(default=0)
    leavers = models.PositiveIntegerField(default=0)
    reached = models.PositiveIntegerField(default=0)
    deliveries = models.PositiveIntegerField(default=0)
    drills_distribution = models.JSONField(default=list)
    learning_assigned = models.PositiveIntegerField(default=0)
    learning_completed = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "fiscal_year", "dimension", "key"], name="unique_fiscal_year_rollup"
            )
        ]
        verbose_name = _("年度の集計")
        verbose_name_plural = _("年度の集計")

    def __str__(self) -> str:
        return f"{self.organization_id} {self.fiscal_year} {self.dimension} {self.label}"
