"""pages/field_capture.py: the component's JSON value read into a Capture, anything malformed dropped.

The component itself (the buttons, geolocation, the camera input) runs in a browser: tests/test_mobile_browser.py."""

from __future__ import annotations

import base64

import pytest

from pages.field_capture import Capture, Location, Photo, parse


def test_location_and_photo_are_read():
    got = parse({"location": {"lon": 115.9855, "lat": 36.4431, "accuracy": 15, "seq": 3},
                 "photo": {"name": "现场.jpg", "type": "image/jpeg", "size": 3, "data": base64.b64encode(b"abc").decode(),
                           "seq": 4}})
    assert got == Capture(Location(115.9855, 36.4431, 15.0, 3), Photo("现场.jpg", b"abc", 4))


@pytest.mark.parametrize("value", [None, "x", 3, [], {}, {"location": None, "photo": None}])
def test_nothing_given_is_an_empty_capture(value):
    assert parse(value) == Capture()


@pytest.mark.parametrize("location", [{"lon": "东", "lat": 36.4}, {"lon": 115.9}, {"lon": 200, "lat": 36.4},
                                      {"lon": 115.9, "lat": -91}, "115.9,36.4", {"lon": None, "lat": None}])
def test_a_malformed_location_is_dropped(location):
    assert parse({"location": location}).location is None


@pytest.mark.parametrize("photo", [{"name": "a.jpg", "data": "不是base64"}, {"name": "a.jpg", "data": ""},
                                   {"name": "a.jpg"}, {"name": "a.jpg", "data": None}, "abc"])
def test_a_malformed_photo_is_dropped(photo):
    assert parse({"photo": photo}).photo is None


def test_a_photo_without_a_name_gets_a_chinese_one():
    assert parse({"photo": {"data": base64.b64encode(b"x").decode()}}).photo.name == "现场照片.jpg"
