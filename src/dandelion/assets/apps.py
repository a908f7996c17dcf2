from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "dandelion.assets"
    label = "assets"
    verbose_name = "Social accounts"
