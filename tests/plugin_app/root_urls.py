"""A root urlconf built when first read, for the apps installed at that moment (see tests/core/test_plugins.py)."""


def __getattr__(name):
    if name == "urlpatterns":
        from dandelion.config.urls import build_urlpatterns

        return build_urlpatterns()
    raise AttributeError(name)
