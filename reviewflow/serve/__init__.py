"""``reviewflow serve``: the review's apps in the browser, each person signed in as themselves."""
