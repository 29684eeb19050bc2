"""The GitHub collector: organisations and repositories read through PyGithub
(``posture scan github``)."""
