from dandelion.connectors.text_limits import TextRule, count, grapheme_count, measure, weighted_count


def test_graphemes_count_what_people_see():
    assert grapheme_count("abc") == 3
    assert grapheme_count("e\u0301") == 1  # e + combining acute
    assert grapheme_count("👩\u200d👩\u200d👧") == 1  # a ZWJ family
    assert grapheme_count("🇫🇷🇪🇸") == 2  # two flags
    assert grapheme_count("👍🏽") == 1  # skin tone


def test_weighted_count_like_twitter_text():
    assert weighted_count("hello") == 5
    assert weighted_count("日本") == 4  # CJK weighs 2
    assert weighted_count("see https://example.com/a/very/long/path/indeed") == 4 + 23


def test_measure_per_network_and_default():
    assert measure("bluesky", "x" * 300).ok
    assert not measure("bluesky", "x" * 301).ok
    assert measure("x", "é" * 280).ok
    assert not measure("x", "日" * 141).ok
    assert measure("mastodon", "a" * 477 + " https://example.com/" + " " + "b" * 200).length == 477 + 2 + 23 + 200
    assert measure("unknown-network", "a" * 5000).ok
    assert count("a https://x.org", TextRule(10, "graphemes", url_length=5)) == 2 + 5
