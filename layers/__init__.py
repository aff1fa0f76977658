"""Map layers and base-map building blocks (pure folium/branca, no Streamlit)."""
