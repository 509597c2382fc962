"""CSIRT cases over the API (filled by the incidents issue)."""

from ninja import Router

router = Router(tags=["インシデント"])
