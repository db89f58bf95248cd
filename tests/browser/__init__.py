"""Tests in a real browser (chromium): JupyterLab and the course website."""
