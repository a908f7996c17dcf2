from dandelion.publishing.checks import CheckTarget, RuleSpec, VariantText, find_terms, run_checks


def target(text, *, languages=(), sponsored=False, alt=(), network="facebook"):
    return CheckTarget(variants=[VariantText(1, network, "FB @brand", text, tuple(languages))],
                       is_sponsored=sponsored, alt_texts=alt)


def rule(kind, severity="block", **params):
    return RuleSpec(id=1, name=kind, kind=kind, severity=severity, params=params)


def test_terms_match_whole_words_in_any_script():
    assert find_terms("Nous aimons Acme!", ["acme"]) == ["acme"]
    assert find_terms("Acmeology rocks", ["acme"]) == []
    assert find_terms("ÉCOLE fermée", ["école"]) == ["école"]
    assert find_terms("Купите водку сейчас", ["водку"]) == ["водку"]
    assert find_terms("我们喜欢竞争对手的产品", ["竞争对手"]) == ["竞争对手"]  # no spaces: substring


def test_each_rule_kind():
    assert run_checks(target("Buy at acme now"), [rule("banned_terms", terms=["acme"])])[0].severity == "block"
    assert not run_checks(target("ok"), [rule("banned_terms", terms=["acme"])])
    assert run_checks(target("new offer", sponsored=True), [rule("required_disclosure", terms=["#ad"])])
    assert not run_checks(target("new offer #ad", sponsored=True), [rule("required_disclosure", terms=["#ad"])])
    assert not run_checks(target("new offer"), [rule("required_disclosure", terms=["#ad"])])
    links = [rule("allowed_link_domains", domains=["example.com"])]
    assert not run_checks(target("see https://shop.example.com/x"), links)
    assert run_checks(target("see https://evil.test/x"), links)
    assert run_checks(target("#a #b #c #d"), [rule("max_hashtags", max=3)])
    assert not run_checks(target("#a #b #c"), [rule("max_hashtags", max=3)])
    assert run_checks(target("@a @b @c", alt=()), [rule("max_mentions", max=2)])
    assert run_checks(target("x", alt=("", "ok")), [rule("alt_text")])[0].field == "media"


def test_language_rule():
    english = "We are delighted to announce our brand new store opening in the city centre next week."
    french = "Nous sommes ravis d'annoncer l'ouverture de notre nouveau magasin en centre-ville la semaine prochaine."
    results = run_checks(target(english, languages=["fr"]), [rule("language", severity="warn")])
    assert results and "'en'" in results[0].message
    assert not run_checks(target(french, languages=["fr"]), [rule("language", severity="warn")])


def test_length_is_always_checked_and_blocks():
    results = run_checks(target("x" * 301, network="bluesky"), [])
    assert results[0].kind == "length" and "301/300" in results[0].message
