"""One lock for the app's first imports.

Streamlit runs each session's script in a thread of its own. When many sessions reach a freshly started
server at once (wall screens reconnecting after a restart), their threads import the same large modules
at the same moment, and Python's per-module import locks may then hand one thread a module that another
is still initialising (an ImportError or AttributeError that Streamlit shows as "This app has encountered
an error", outside the gate's shield). app.py takes this lock around its imports, so the first session
imports alone and the others find the modules complete. This module imports nothing of the app's.
"""

import threading

IMPORT_LOCK = threading.Lock()
