"""JupyterHub for a perflab room on one server (see deploy/README.md).

Every setting is a PERFLAB_ROOM_* environment variable, read and checked by
perflab.room.RoomSettings; perflab.room.configure applies them. Start it with
`jupyterhub -f deploy/jupyterhub_config.py`, as root (it creates the learners' accounts).
"""

from perflab.room import RoomSettings, configure, read_people

c = get_config()  # noqa: F821  (JupyterHub provides get_config in its config files)
settings = RoomSettings.from_env()
configure(c, settings, read_people(settings.people_file))

# Where the Hub listens: every interface, port 8000. Put TLS in front of it (a reverse
# proxy such as nginx or caddy), or set c.JupyterHub.ssl_cert / ssl_key here.
c.JupyterHub.bind_url = "http://:8000"
