"""A click on a map's area reaches the page at once (点击即达), not after streamlit-folium's 250 ms wait.

streamlit-folium reports map events through a 250 ms debounce (made for panning and zooming): every
click on a grid, a label, an area or a problem waited a quarter of a second before the page even
started to act on it. For a map that returns only the clicked feature (``last_active_drawing``), this
element sends that answer to Streamlit as soon as the click has been handled, exactly as
streamlit-folium would (same message, same value), and records it as sent so that the debounced call
finds nothing new and sends nothing a second time. On any other map (drawing, bounds) it does nothing.

It reads streamlit-folium's page state (``window.__GLOBAL_DATA__``, pinned version 0.27.4): should a
later version name it differently, the guard fails and clicks go through the debounce as before.
Pure: folium only.
"""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template


class InstantClick(MacroElement):
    """Send a clicked feature to the page without streamlit-folium's debounce (see the module docstring)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
        (function() {
            var container = {{ this._parent.get_name() }}.getContainer();
            function send() {
                var data = window.__GLOBAL_DATA__;
                if (!data || !Array.isArray(data.returned_objects) || data.returned_objects.length !== 1
                        || data.returned_objects[0] !== 'last_active_drawing') { return; }
                var value = {last_active_drawing: data.last_active_drawing};
                if (JSON.stringify(data.previous_data) === JSON.stringify(value)) { return; }
                data.previous_data = value;
                window.parent.postMessage({isStreamlitMessage: true, type: 'streamlit:setComponentValue',
                                           value: value, dataType: 'json'}, '*');
            }
            // capture phase: registered before Leaflet's own handler runs; the send waits for it to finish
            container.addEventListener('click', function() { setTimeout(send, 0); }, true);
        })();
        {% endmacro %}
    """)

    def __init__(self) -> None:
        super().__init__()
        self._name = "InstantClick"
