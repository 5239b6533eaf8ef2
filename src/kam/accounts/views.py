from django.http import Http404, HttpResponse

from kam.accounts.selectors import account_get


def account_detail(request, pk: int):
    account = account_get(user=request.user, pk=pk)
    if account is None:
        raise Http404
    return HttpResponse(account.name)
