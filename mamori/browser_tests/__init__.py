"""Browser tests: real pages in Debian's Chromium, driven by Playwright (which downloads no browser here)."""
