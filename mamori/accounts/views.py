from django.http import HttpResponse


def mfa_setup(request):
    return HttpResponse(status=501)


mfa_verify = security = mfa_setup
