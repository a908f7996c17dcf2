"""The community's pages: home, knowledge base (search), articles, questions, gatherings (RSVP, .ics), paths."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dandelion.community import enablement, ical, services
from dandelion.community import search as community_search
from dandelion.community.choices import RegistrationStatus
from dandelion.community.exceptions import EmptySearchQuery
from dandelion.community.forms import (
    AnswerForm,
    ArticleForm,
    AskExpertForm,
    DirectorySearchForm,
    FeedbackForm,
    GatheringForm,
    GuestForm,
    GuestInviteForm,
    MaterialForm,
    ProfileForm,
    QuestionForm,
    SearchForm,
    SeriesEditForm,
    ToArticleForm,
)
from dandelion.community.models import (
    Answer,
    Article,
    Gathering,
    GuestRegistration,
    LearningPath,
    Material,
    MemberProfile,
    Question,
    Registration,
)
from dandelion.core.permissions import has_perm
from dandelion.core.view_helpers import (
    call_service,
    get_for,
    get_visible,
    paginate,
    render_page_or_partial,
    require,
)
from dandelion.orgs.rendering import render_markdown


def _gatherings(user):
    return Gathering.objects.restrict(user, "view").select_related("unit").annotate(
        going=Count("registrations", filter=Q(registrations__status=RegistrationStatus.GOING), distinct=True)
        + Count("guests", filter=Q(guests__status=GuestRegistration.Status.GOING), distinct=True))


@login_required
def home(request):
    require(request.user, "community.view_article")
    now = timezone.now()
    articles = Article.objects.restrict(request.user, "view").published().select_related("unit")[:8]
    upcoming = _gatherings(request.user).filter(ends_at__gte=now).order_by("starts_at")[:3]
    questions = Question.objects.restrict(request.user, "view").annotate(n_answers=Count("answers"))[:6]
    return render(request, "community/home.html", {
        "articles": articles, "upcoming": upcoming, "questions": questions, "form": SearchForm(),
        "can_add": has_perm(request.user, "community.add_article")})


@login_required
def article_list(request):
    """The knowledge base: with ``?q=``, the full-text search (ranked, highlighted); else the latest articles."""
    require(request.user, "community.view_article")
    form = SearchForm(request.GET or None)
    result, error = None, ""
    query = request.GET.get("q", "").strip()
    if query:
        try:
            result = community_search.search(request.user, query, language=request.GET.get("language", "")[:2])
        except EmptySearchQuery as exc:
            error = exc.message
    qs = Article.objects.restrict(request.user, "view").published().select_related("unit", "owner")
    if request.GET.get("stale"):
        qs = qs.stale()
    tag = request.GET.get("tag", "").strip()
    if tag:
        qs = qs.filter(tags__name=tag.lower())
    page = paginate(request, qs) if not query else None
    ctx = {"form": form, "result": result, "error": error, "page": page, "query": query, "tag": tag,
           "can_add": has_perm(request.user, "community.add_article")}
    return render_page_or_partial(request, "community/article_list.html", "community/partials/_results.html", ctx)


@login_required
def article_detail(request, pk):
    article = get_visible(request, Article.objects.select_related("unit", "owner"), pk)
    related = Article.objects.restrict(request.user, "view").published().filter(
        pk__in=article.related.values("pk"))
    mine = article.feedback.filter(user=request.user).first() if request.user.pk else None
    return render(request, "community/article_detail.html", {
        "article": article, "body_html": render_markdown(article.body), "related": related,
        "versions": article.versions.select_related("author")[:20], "feedback": mine,
        "tags": article.tags.all(),
        "can_change": has_perm(request.user, "community.change_article", article.unit)})


@login_required
@require_POST
def article_feedback(request, pk):
    article = get_for(request, Article, pk, "community.add_articlefeedback", unit=lambda a: a.unit)
    form = FeedbackForm(request.POST)
    if form.is_valid():
        _result, ok = call_service(request, services.give_feedback, article, **form.cleaned_data)
        if ok:
            messages.success(request, _("Thank you for your feedback."))
    else:
        messages.error(request, _("Say whether the article was useful."))
    return redirect(article)


@login_required
@require_http_methods(["GET", "POST"])
def article_create(request):
    require(request.user, "community.add_article")
    form = ArticleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        article, ok = call_service(request, services.create_article, form=form, **form.cleaned_data)
        if ok:
            return redirect(article)
    return render(request, "community/article_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def article_edit(request, pk):
    article = get_for(request, Article, pk, "community.change_article")
    initial = {"title": article.title, "summary": article.summary, "body": article.body, "kind": article.kind,
               "language": article.language, "status": article.status, "review_by": article.review_by,
               "tags": ", ".join(article.tags.values_list("name", flat=True))}
    form = ArticleForm(request.POST or None, initial=initial, user=request.user, with_unit=False)
    if request.method == "POST" and form.is_valid():
        _r, ok = call_service(request, services.update_article, article, form=form, **form.cleaned_data)
        if ok:
            return redirect(article)
    return render(request, "community/article_form.html", {"form": form, "article": article})


# --- questions -------------------------------------------------------------------------------------------------


@login_required
def question_list(request):
    require(request.user, "community.view_question")
    qs = Question.objects.restrict(request.user, "view").select_related("asker").annotate(
        n_answers=Count("answers"))
    if request.GET.get("open"):
        qs = qs.filter(accepted_at__isnull=True)
    return render(request, "community/question_list.html", {
        "page": paginate(request, qs), "can_ask": has_perm(request.user, "community.add_question")})


@login_required
@require_http_methods(["GET", "POST"])
def question_create(request):
    require(request.user, "community.add_question")
    form = QuestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        question, ok = call_service(request, services.ask_question, form=form, **form.cleaned_data)
        if ok:
            return redirect(question)
    return render(request, "community/question_form.html", {"form": form})


@login_required
@require_http_methods(["GET", "POST"])
def question_detail(request, pk):
    question = get_visible(request, Question.objects.select_related("asker"), pk)
    form = AnswerForm(request.POST or None)
    if request.method == "POST":
        require(request.user, "community.add_answer")
        if form.is_valid():
            _a, ok = call_service(request, services.answer_question, question, form=form, **form.cleaned_data)
            if ok:
                return redirect(question)
    answers = [(a, render_markdown(a.body)) for a in question.answers.select_related("author")]
    return render(request, "community/question_detail.html", {
        "question": question, "body_html": render_markdown(question.body), "answers": answers, "form": form,
        "can_answer": has_perm(request.user, "community.add_answer"),
        "can_accept": services.may_accept(request.user, question),
        "can_make_article": has_perm(request.user, "community.add_article")})


@login_required
@require_POST
def answer_accept(request, pk):
    answer = get_visible(request, Answer.objects.select_related("question"), pk)
    if not services.may_accept(request.user, answer.question):
        require(request.user, "community.change_question", message=_("Only the person who asked may accept."))
    call_service(request, services.accept_answer, answer)
    return redirect(answer.question)


@login_required
@require_http_methods(["GET", "POST"])
def answer_to_article(request, pk):
    answer = get_visible(request, Answer.objects.select_related("question"), pk)
    require(request.user, "community.add_article")
    form = ToArticleForm(request.POST or None, initial={"title": answer.question.title}, user=request.user)
    if request.method == "POST" and form.is_valid():
        article, ok = call_service(request, services.answer_to_article, answer, form=form, **form.cleaned_data)
        if ok:
            return redirect(article)
    return render(request, "community/answer_to_article.html", {"form": form, "answer": answer})


# --- gatherings ------------------------------------------------------------------------------------------------


@login_required
def gathering_list(request):
    require(request.user, "community.view_gathering")
    now = timezone.now()
    qs = _gatherings(request.user)
    return render(request, "community/gathering_list.html", {
        "upcoming": qs.filter(ends_at__gte=now).order_by("starts_at"),
        "past": qs.filter(ends_at__lt=now).order_by("-starts_at")[:20],
        "can_add": has_perm(request.user, "community.add_gathering")})


@login_required
@require_http_methods(["GET", "POST"])
def gathering_create(request):
    require(request.user, "community.add_gathering")
    form = GatheringForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        count, every = data.pop("count") or 1, data.pop("every_months") or 2
        if count > 1:
            made, ok = call_service(request, services.create_gathering_series, form=form, count=count,
                                    every_months=every, **data)
            if ok:
                messages.success(request, _("%(n)d gatherings planned.") % {"n": len(made)})
                return redirect(made[0])
        else:
            gathering, ok = call_service(request, services.create_gathering, form=form, **data)
            if ok:
                return redirect(gathering)
    return render(request, "community/gathering_form.html", {"form": form})


@login_required
def gathering_detail(request, pk):
    guest_ids = getattr(request, "community_guest_gatherings", None)
    if guest_ids is not None:  # an invited guest (the middleware let only their gatherings through)
        return _guest_gathering_page(request, pk, guest_ids)
    gathering = get_visible(request, _gatherings(request.user).prefetch_related(
        "speakers", Prefetch("agenda"), "materials"), pk)
    mine = Registration.objects.filter(gathering=gathering, user=request.user).first()
    organiser = has_perm(request.user, "community.change_gathering", gathering.unit)
    return render(request, "community/gathering_detail.html", {
        "gathering": gathering, "description_html": render_markdown(gathering.description),
        "registration": mine, "position": services.waiting_position(mine) if mine else None,
        "can_register": has_perm(request.user, "community.add_registration"),
        "attendees": gathering.registrations.filter(status=RegistrationStatus.GOING).select_related("user")
        if organiser else None,
        "guests": gathering.guests.exclude(status=GuestRegistration.Status.CANCELLED) if organiser else None,
        "organiser": organiser,
        "material_form": MaterialForm() if organiser and not gathering.starts_at > timezone.now() else None,
        "series_form": SeriesEditForm(initial={
            "starts_at": timezone.localtime(gathering.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": timezone.localtime(gathering.ends_at).strftime("%Y-%m-%dT%H:%M"),
            "place": gathering.place, "online_url": gathering.online_url, "capacity": gathering.capacity})
        if organiser and not gathering.is_past else None,
        "invite_form": GuestInviteForm() if organiser else None,
        "guest_url": request.build_absolute_uri(reverse("community:guest-register", args=[gathering.pk]))
        if gathering.open_to_guests else ""})


@login_required
@require_POST
def gathering_register(request, pk):
    gathering = get_visible(request, Gathering, pk)
    require(request.user, "community.add_registration")
    reg, ok = call_service(request, services.register_for_gathering, gathering)
    if ok:
        if reg.status == RegistrationStatus.GOING:
            messages.success(request, _("You are registered."))
        else:
            messages.info(request, _("The gathering is full: you are on the waiting list."))
    return redirect(gathering)


@login_required
@require_POST
def gathering_cancel(request, pk):
    gathering = get_visible(request, Gathering, pk)
    reg = get_object_or_404(Registration, gathering=gathering, user=request.user)
    _r, ok = call_service(request, services.cancel_registration, reg)
    if ok:
        messages.success(request, _("Your registration is cancelled."))
    return redirect(gathering)


def _ics_response(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
def gathering_ics(request, pk):
    guest_ids = getattr(request, "community_guest_gatherings", None)
    if guest_ids is not None:
        gathering = get_object_or_404(Gathering, pk=pk, pk__in=guest_ids)
    else:
        gathering = get_visible(request, Gathering, pk)
    return _ics_response(ical.calendar_for([gathering], name=gathering.title,
                                           base_url=request.build_absolute_uri("/")), f"gathering-{gathering.pk}.ics")


@login_required
def my_calendar(request):
    """The member's feed: the gatherings they hold a place (or a waiting-list position) for."""
    qs = Gathering.objects.restrict(request.user, "view").filter(
        registrations__user=request.user,
        registrations__status__in=(RegistrationStatus.GOING, RegistrationStatus.WAITLISTED)).order_by("starts_at")
    return _ics_response(ical.calendar_for(qs, name=_("My gatherings"), base_url=request.build_absolute_uri("/")),
                         "my-gatherings.ics")


# --- learning paths ----------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def path_detail(request, pk):
    path = get_visible(request, LearningPath.objects.select_related("unit"), pk)
    questions = list(path.quiz.all())
    score = award = None
    if request.method == "POST":
        require(request.user, "community.take_quiz")
        answers = {q.pk: [int(v) for v in request.POST.getlist(f"q{q.pk}") if v.isdigit()] for q in questions}
        result, ok = call_service(request, enablement.take_quiz, path, answers=answers)
        if ok:
            score, award = result
    steps = path.steps.select_related("article")
    cert = getattr(path, "certification", None)
    held = cert.awards.filter(user=request.user, expires_at__gt=timezone.now()).first() if cert else None
    return render(request, "community/path_detail.html", {
        "path": path, "steps": steps, "questions": questions, "score": score, "award": award or held,
        "certification": cert})


# --- the members directory ---------------------------------------------------------------------------------------


@login_required
def member_list(request):
    """Who runs what, where, knowing what: the directory, searchable; the viewer's scope applies (fail closed)."""
    require(request.user, "community.view_memberprofile")
    form = DirectorySearchForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    qs = services.search_directory(request.user, q=data.get("q", ""), network=data.get("network", ""),
                                   language=data.get("language", ""), skill=data.get("skill", ""),
                                   experts_only=bool(data.get("experts")))
    mine = MemberProfile.objects.filter(user=request.user).first()
    return render_page_or_partial(request, "community/member_list.html", "community/partials/_members.html", {
        "form": form, "page": paginate(request, qs), "mine": mine})


@login_required
def member_detail(request, pk):
    profile = get_visible(request, MemberProfile.objects.select_related("user", "unit"), pk)
    from dandelion.orgs.models import Membership

    roles = Membership.objects.restrict(request.user, "view").filter(user=profile.user).select_related("unit")
    certs = profile.user.certifications.filter(expires_at__gt=timezone.now()).select_related("certification")
    return render(request, "community/member_detail.html", {
        "profile": profile, "roles": roles, "certifications": certs,
        "form": AskExpertForm(), "is_me": profile.user_id == request.user.pk,
        "can_ask": profile.open_to_questions and has_perm(request.user, "community.add_question")})


@login_required
@require_http_methods(["GET", "POST"])
def member_edit(request):
    require(request.user, "community.view_memberprofile")
    profile = MemberProfile.objects.filter(user=request.user).select_related("unit").first()
    initial = {"visibility": "unit", "open_to_questions": True, "contact_email": request.user.email,
               "weekly_digest": True}
    if profile is not None:
        initial = {f: getattr(profile, f) for f in ("unit", "headline", "bio", "contact_email", "phone", "chat",
                                                    "open_to_questions", "visibility", "weekly_digest")}
        initial.update({f: ", ".join(getattr(profile, f)) for f in services.PROFILE_LIST_FIELDS})
    form = ProfileForm(request.POST or None, initial=initial, user=request.user)
    if request.method == "POST" and form.is_valid():
        saved, ok = call_service(request, services.update_profile, form=form, user=request.user,
                                 **form.cleaned_data)
        if ok:
            messages.success(request, _("Your directory entry is saved."))
            return redirect(saved)
    return render(request, "community/member_form.html", {"form": form, "profile": profile})


@login_required
@require_POST
def member_ask(request, pk):
    profile = get_visible(request, MemberProfile.objects.select_related("user", "unit"), pk)
    require(request.user, "community.add_question")
    form = AskExpertForm(request.POST)
    if form.is_valid():
        question, ok = call_service(request, services.ask_expert, profile, **form.cleaned_data)
        if ok:
            messages.success(request, _("Your question is sent to %(name)s and posted to the community.")
                             % {"name": profile})
            return redirect(question)
    else:
        messages.error(request, _("Write your question first."))
    return redirect(profile)


# --- enablement --------------------------------------------------------------------------------------------------


@login_required
def enablement_status(request):
    """Where the viewer may publish, what is missing elsewhere (with the paths); for the admins of a subtree, who is
    enabled where in it (the hub sees the whole group)."""
    from dandelion.orgs.models import Membership

    mine = Membership.objects.filter(user=request.user).select_related("unit").order_by("unit__path")
    my_status = [(m, services.may_publish(request.user, m.unit)) for m in mine]
    paths = LearningPath.objects.restrict(request.user, "view").select_related("certification")
    team = None
    if has_perm(request.user, "community.change_rolerequirement"):
        rows = (Membership.objects.restrict(request.user, "change").exclude(user=request.user)
                .select_related("user", "unit").order_by("unit__path", "user__username")[:200])
        team = [(m, services.may_publish(m.user, m.unit)) for m in rows]
    return render(request, "community/enablement.html", {"my_status": my_status, "paths": paths, "team": team})


# --- materials, guests, editing a series -----------------------------------------------------------------------------


@login_required
@require_POST
def material_add(request, pk):
    gathering = get_for(request, Gathering, pk, "community.change_gathering")
    form = MaterialForm(request.POST, request.FILES)
    if form.is_valid():
        _m, ok = call_service(request, services.add_material, gathering, title=form.cleaned_data["title"],
                              url=form.cleaned_data.get("url") or "", file=form.cleaned_data.get("file"))
        if ok:
            messages.success(request, _("Material attached."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(gathering)


@login_required
@require_POST
def material_remove(request, pk):
    material = get_visible(request, Material.objects.select_related("gathering__unit"), pk)
    _r, ok = call_service(request, services.remove_material, material)
    if ok:
        messages.success(request, _("Material removed."))
    return redirect(material.gathering)


@login_required
def material_download(request, pk):
    """An uploaded file, served to the people who may see its gathering (never from a public media address)."""
    guest_ids = getattr(request, "community_guest_gatherings", None)
    if guest_ids is not None:
        material = get_object_or_404(Material, pk=pk, gathering_id__in=guest_ids)
    else:
        material = get_visible(request, Material.objects.select_related("gathering"), pk)
    if not material.file:
        raise Http404
    import os

    response = FileResponse(material.file.open("rb"), as_attachment=True,
                            filename=os.path.basename(material.file.name))
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def gathering_series_edit(request, pk):
    gathering = get_for(request, Gathering, pk, "community.change_gathering")
    form = SeriesEditForm(request.POST)
    if form.is_valid():
        changed, ok = call_service(request, services.update_series, gathering, **form.cleaned_data)
        if ok:
            messages.success(request, _("%(n)d gatherings changed.") % {"n": len(changed)})
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(gathering)


def _open_gathering(pk) -> Gathering:
    gathering = Gathering.objects.filter(pk=pk, open_to_guests=True).select_related("unit").first()
    if gathering is None:
        raise Http404
    return gathering


@require_http_methods(["GET", "POST"])
def guest_register(request, pk):
    """No account needed: an outside guest registers by e-mail for a gathering open to guests, then confirms."""
    from django.utils.translation import get_language

    from dandelion.core.exceptions import DandelionError
    from dandelion.core.view_helpers import form_error

    gathering = _open_gathering(pk)
    form = GuestForm(request.POST or None)
    sent = False
    if request.method == "POST" and _guest_form_limited(request):
        return render(request, "community/guest_register.html", {
            "gathering": gathering, "form": form, "sent": False,
            "limited": _("Too many registrations from your address: try again in a few minutes.")}, status=429)
    if request.method == "POST" and form.is_valid():
        try:
            services.register_guest(gathering, language=get_language() or "", **form.cleaned_data)
            sent = True
        except DandelionError as err:
            form_error(form, err)
    return render(request, "community/guest_register.html", {"gathering": gathering, "form": form, "sent": sent})


def _guest_form_limited(request) -> bool:
    """The public guest form's rate limit: at most ``DANDELION_COMMUNITY_GUEST_FORM_RATE`` (10, 600) posts per client
    address and window of seconds, counted in the default cache (shared by the workers when the cache is)."""
    from django.conf import settings
    from django.core.cache import cache

    limit, window = getattr(settings, "DANDELION_COMMUNITY_GUEST_FORM_RATE", (10, 600))
    ip = request.META.get("REMOTE_ADDR", "") or "unknown"
    key = f"community:guest-form:{ip}:{int(timezone.now().timestamp()) // window}"
    if cache.add(key, 1, timeout=window):
        return False
    try:
        return cache.incr(key) > limit
    except ValueError:  # expired between add and incr
        return False


def guest_confirm(request, token):
    from dandelion.community.exceptions import InvalidCommunityData

    try:
        guest = services.confirm_guest(token)
        error = ""
    except InvalidCommunityData as err:
        guest, error = None, err.message
    return render(request, "community/guest_confirmed.html", {"guest": guest, "error": error},
                  status=200 if guest else 400)


# --- invited guests' logins ----------------------------------------------------------------------------------------


def _guest_gathering_page(request, pk, guest_ids):
    gathering = get_object_or_404(Gathering.objects.select_related("unit").prefetch_related(
        "speakers", Prefetch("agenda"), "materials"), pk=pk, pk__in=guest_ids)
    return render(request, "community/gathering_detail.html", {
        "gathering": gathering, "description_html": render_markdown(gathering.description), "is_guest": True,
        "registration": None, "position": None, "can_register": False, "attendees": None, "guests": None,
        "organiser": False, "material_form": None, "series_form": None, "guest_url": ""})


@require_http_methods(["GET", "POST"])
def guest_welcome(request, token):
    """The invitation's link: the guest chooses a password, is logged in and lands on their gathering."""
    from django.contrib.auth import login
    from django.contrib.auth.forms import SetPasswordForm

    from dandelion.community import guest_access
    from dandelion.community.exceptions import InvalidCommunityData

    try:
        user = guest_access.user_for_token(token)
    except InvalidCommunityData as err:
        return render(request, "community/guest_welcome.html", {"error": str(err)}, status=400)
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = guest_access.set_guest_password(token, form.cleaned_data["new_password1"])
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        ids = guest_access.active_gathering_ids(user)
        return redirect("community:gathering-detail", pk=min(ids)) if ids else redirect("home")
    return render(request, "community/guest_welcome.html", {"form": form, "guest": user})


@login_required
@require_POST
def guest_invite(request, pk):
    from dandelion.community import guest_access

    gathering = get_for(request, Gathering, pk, "community.change_gathering")
    form = GuestInviteForm(request.POST)
    if form.is_valid():
        from django.utils.translation import get_language

        _grant, ok = call_service(request, guest_access.invite_guest, gathering,
                                  language=form.cleaned_data.pop("language", "") or get_language() or "",
                                  **form.cleaned_data)
        if ok:
            messages.success(request, _("Invitation sent to %(e)s.") % {"e": form.cleaned_data["email"]})
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
    return redirect(gathering.get_absolute_url())
