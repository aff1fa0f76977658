"""Streamlit pages: thin views that read widgets, ask gis/ for data and layers/ for map layers."""
