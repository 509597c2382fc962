from django.contrib.auth import views as auth_views
from django.urls import path

from mamori.accounts import views

app_name = "accounts"

# Paths under login/, logout/, mfa/ and password/reset/ stay reachable before the MFA step
# (see middleware.EXEMPT_PREFIXES); everything else needs an MFA-verified session where MFA applies.
urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("mfa/setup/", views.mfa_setup, name="mfa-setup"),
    path("mfa/verify/", views.mfa_verify, name="mfa-verify"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password-reset"),
    path("password/reset/sent/", views.PasswordResetDoneView.as_view(), name="password-reset-done"),
    path("password/reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password-reset-confirm"),
    path("password/reset/done/", views.PasswordResetCompleteView.as_view(), name="password-reset-complete"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password-change"),
    path("password/change/done/", views.PasswordChangeDoneView.as_view(), name="password-change-done"),
    path("security/", views.security, name="security"),
    path("security/recovery-codes/", views.regenerate_recovery_codes, name="recovery-codes"),
    path("security/mfa/reset/", views.reset_mfa, name="mfa-reset"),
    path("security/tokens/", views.create_token, name="token-create"),
    path("security/tokens/<uuid:token_id>/revoke/", views.revoke_token, name="token-revoke"),
]
