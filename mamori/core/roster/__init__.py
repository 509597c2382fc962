"""Roster import (名簿取込): the HR system's export is how staff get into mamori.

``parsing`` reads CSV (UTF-8 with or without BOM, CP932) and XLSX into rows, ``columns`` maps the
Japanese (or English) headers and values, ``validation`` checks every row before anything is written,
``sync`` computes the difference with the organization's roster and applies it in one transaction.
``check_roster`` is the one entry point that runs all of it short of writing.
"""
