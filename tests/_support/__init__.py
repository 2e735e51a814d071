"""Helpers shared by the test folders; import them absolutely, e.g. ``from tests._support.clock import FakeClock``.

One module per job (each imports only the package's runtime dependencies, so the Binder venv can load them):

- ``clock``: ``FakeClock`` (monotonic + wall time that move only when told) and its start ``T0``.
- ``threads``: ``wait_for`` (bounded polling), ``crowd`` (n threads released together), ``settle_threads``.
- ``clients``: ``AutotaskClient``/``CredentialManager`` builders against a sandbox (``oauth_client``,
  ``oauth_manager``, ``api_user_client``) and ``server_limits_held``.
- ``sandbox_http``: raw ``httpx.Client`` builders for the sandbox's own tests (``oauth_http``,
  ``api_user_http``), POST paging and an independent reference of the filter semantics.
- ``mock_api``: ``MockApi`` (a scriptable in-process Autotask on ``httpx.MockTransport``) and ``make_client``.
- ``fake_manager``: ``FakeManager``, the status contract the widget's unit tests drive.
- ``transports``: ``RecordingTransport``, a real transport that records what goes on the wire.
- ``servers``: tiny real HTTP servers (``Recorder``, ``Forbidding``) for what the sandbox does not do.
- ``shell``: ``Shown`` and ``run`` for the magics' tests.
- ``history``: an IPython shell with a temp history database, and everything it remembers as text.
- ``tally``: the reliability suite's session-wide counters (printed at the end of a run).
"""
