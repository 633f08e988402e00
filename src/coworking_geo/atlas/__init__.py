"""The atlas: light commune polygons, folium maps, static PNG maps and the index page.

Modules: :mod:`~coworking_geo.atlas.simplify` (coverage simplification and
coordinate rounding), :mod:`~coworking_geo.atlas.themes` (what each map shows:
values, classes, colours, legend), :mod:`~coworking_geo.atlas.maps` (folium
builders, offline assets inlined), :mod:`~coworking_geo.atlas.index` (the
index page) and :mod:`~coworking_geo.atlas.static` (matplotlib PNGs).
"""
