from django.apps import AppConfig


class DatasetConfig(AppConfig):
    """Publishing: export, import, formats and releases. It sits above analysis (a release
    carries the agreement report and its methods text) and above annotate."""

    name = "dataset"
    verbose_name = "Dataset publishing"
