from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from mamori.accounts import actions, mfa
from mamori.accounts.forms import APITokenForm, LoginForm, MFACodeForm, PasswordResetRequestForm, TOTPCodeForm
from mamori.accounts.models import APIToken, TOTPDevice
from mamori.accounts.throttle import Lockout
from mamori.core.scoping import current_organization, for_organization, get_for_organization, require_role, tenancy
from mamori.lib.safe_redirect import safe_next

TOO_MANY_REQUESTS = 429


def lockout_message(lockout: Lockout) -> str:
    minutes = lockout.minutes_left
    if lockout.per_address:
        return ngettext(
            "この端末（ネットワーク）からのログインの失敗が多いため、一時的にログインを受け付けていません。"
            "約%(minutes)d分後にもう一度お試しください。",
            "この端末（ネットワーク）からのログインの失敗が多いため、一時的にログインを受け付けていません。"
            "約%(minutes)d分後にもう一度お試しください。",
            minutes,
        ) % {"minutes": minutes}
    return ngettext(
        "このユーザー名でのログインに続けて失敗したため、一時的にログインを受け付けていません。"
        "約%(minutes)d分後にもう一度お試しください。",
        "このユーザー名でのログインに続けて失敗したため、一時的にログインを受け付けていません。"
        "約%(minutes)d分後にもう一度お試しください。",
        minutes,
    ) % {"minutes": minutes}


def redirect_with_next(view_name: str, next_url: str) -> HttpResponse:
    return redirect(f"{reverse(view_name)}?{urlencode({'next': next_url})}")


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, settings.LOGIN_REDIRECT_URL)
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        outcome = actions.log_in(request, form.cleaned_data["identifier"], form.cleaned_data["password"])
        if outcome.lockout:
            form.add_error(None, lockout_message(outcome.lockout))
            status = TOO_MANY_REQUESTS
        elif outcome.user is None:
            form.add_error(None, _("ユーザー名（またはメールアドレス）かパスワードが正しくありません。"))
        elif outcome.needs_mfa:
            return redirect_with_next("accounts:mfa-verify", next_url)
        else:
            return redirect(next_url)
    return render(request, "accounts/login.html", {"form": form, "next": next_url}, status=status)


@login_required
@sensitive_post_parameters("code")
@never_cache
def mfa_verify(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, settings.LOGIN_REDIRECT_URL)
    if mfa.session_passed_mfa(request):
        return redirect(next_url)
    if not mfa.has_confirmed_device(request.user):
        return redirect_with_next("accounts:mfa-setup", next_url)
    form = MFACodeForm(request.POST or None, autofocus=True)
    status = 200
    if request.method == "POST" and form.is_valid():
        outcome = actions.verify_mfa(request, request.user, form.cleaned_data["code"])
        if outcome.passed:
            return redirect(next_url)
        if outcome.lockout:
            form.add_error(None, lockout_message(outcome.lockout))
            status = TOO_MANY_REQUESTS
        else:
            form.add_error("code", _("確認コードが正しくないか、すでに使われています。"))
    return render(request, "accounts/mfa_verify.html", {"form": form, "next": next_url}, status=status)


@login_required
@sensitive_post_parameters("code")
@never_cache
def mfa_setup(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, settings.LOGIN_REDIRECT_URL)
    if mfa.has_confirmed_device(request.user):
        if not mfa.session_passed_mfa(request):
            # Replacing a device needs the current one first: otherwise a password alone would do.
            return redirect_with_next("accounts:mfa-verify", next_url)
        messages.info(request, _("多要素認証はすでに設定されています。"))
        return redirect("accounts:security")
    device = actions.start_enrolment(request.user)
    form = TOTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = actions.confirm_enrolment(request, device, form.cleaned_data["code"])
        if codes is not None:
            messages.success(request, _("多要素認証を設定しました。"))
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": next_url})
        form.add_error("code", _("確認コードが正しくありません。スマートフォンの時刻が正しいかも確認してください。"))
    uri = mfa.provisioning_uri(device)
    context = {
        "form": form,
        "next": next_url,
        "qr_code": mfa.qr_code_svg(uri, _("認証アプリで読み取る QR コード")),
        "secret": mfa.grouped_secret(device.secret),
        "required": tenancy(request).needs_mfa,
    }
    return render(request, "accounts/mfa_setup.html", context)


def _security_page(request: HttpRequest, *, status: int = 200, **extra) -> HttpResponse:
    organization = tenancy(request).organization
    device = TOTPDevice.objects.filter(user=request.user, confirmed_at__isnull=False).first()
    tokens = for_organization(request, APIToken).filter(user=request.user) if organization else APIToken.objects.none()
    context = {
        "device": device,
        "unused_recovery_codes": mfa.unused_recovery_codes(request.user) if device else 0,
        "mfa_role": tenancy(request).needs_mfa,
        "organization": organization,
        "tokens": tokens,
        "token_form": APITokenForm(),
        # Two code fields on one page: distinct ids keep each label tied to its own field.
        "code_form": TOTPCodeForm(auto_id="regenerate_%s"),
        "reset_form": MFACodeForm(auto_id="reset_%s"),
        **extra,
    }
    return render(request, "accounts/security.html", context, status=status)


@login_required
@never_cache
def security(request: HttpRequest) -> HttpResponse:
    return _security_page(request)


@login_required
@require_POST
@sensitive_post_parameters("code")
@never_cache
def regenerate_recovery_codes(request: HttpRequest) -> HttpResponse:
    form = TOTPCodeForm(request.POST)
    codes = form.is_valid() and actions.regenerate_recovery_codes(request, request.user, form.cleaned_data["code"])
    if not codes:
        messages.error(request, _("確認コードが正しくないため、リカバリーコードを作り直せませんでした。"))
        return redirect("accounts:security")
    messages.success(request, _("新しいリカバリーコードを発行しました。以前のコードは使えません。"))
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse("accounts:security")})


@login_required
@require_POST
@sensitive_post_parameters("code")
def reset_mfa(request: HttpRequest) -> HttpResponse:
    form = MFACodeForm(request.POST)
    if not (form.is_valid() and actions.reset_own_mfa(request, form.cleaned_data["code"])):
        messages.error(request, _("確認コードが正しくないため、多要素認証を解除できませんでした。"))
        return redirect("accounts:security")
    messages.success(request, _("多要素認証の設定を解除しました。新しい端末で設定し直してください。"))
    return redirect("accounts:mfa-setup")


@require_role()
@require_POST
@never_cache
def create_token(request: HttpRequest) -> HttpResponse:
    form = APITokenForm(request.POST)
    if not form.is_valid():
        return _security_page(request, token_form=form, status=400)
    token, plaintext = actions.create_api_token(request, current_organization(request), form.cleaned_data["name"])
    return _security_page(request, new_token=token, new_token_plaintext=plaintext)


@require_role()
@require_POST
def revoke_token(request: HttpRequest, token_id) -> HttpResponse:
    token = get_for_organization(request, APIToken.objects.filter(user=request.user), public_id=token_id)
    actions.revoke_api_token(request, token)
    messages.success(request, _("API トークン「%(name)s」を失効させました。") % {"name": token.name})
    return redirect("accounts:security")


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetRequestForm
    template_name = "accounts/password_reset_form.html"
    success_url = reverse_lazy("accounts:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(timeout_minutes=settings.PASSWORD_RESET_TIMEOUT // 60, **kwargs)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Sets the new password; the user then logs in again, MFA included (no automatic login)."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")
    post_reset_login = False

    def form_valid(self, form):
        response = super().form_valid(form)
        actions.complete_password_reset(self.request, form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


@method_decorator(never_cache, name="dispatch")
class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password-change-done")

    def form_valid(self, form):
        response = super().form_valid(form)
        actions.record_password_change(self.request, self.request.user)
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"
