"""The environment's secrets and object store (core/configuration.py), and the
production profile they give."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.configuration import ObjectStore, secret_keys
from tests.core.test_security import production_env, run_python


def test_the_secret_key_comes_from_a_file_with_its_fallbacks(tmp_path, monkeypatch):
    key = tmp_path / "secret_key"
    key.write_text("la-clé-de-tous-les-hôtes\n")
    old = tmp_path / "old_keys"
    old.write_text("ancienne-1\nancienne-2\n")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("SECRET_KEY_FILE", str(key))
    monkeypatch.setenv("SECRET_KEY_FALLBACKS_FILE", str(old))
    assert secret_keys() == ("la-clé-de-tous-les-hôtes", ["ancienne-1", "ancienne-2"])


def test_a_secret_given_twice_or_unreadable_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "une")
    monkeypatch.setenv("SECRET_KEY_FILE", str(tmp_path / "autre"))
    with pytest.raises(ImproperlyConfigured, match="not both"):
        secret_keys()
    monkeypatch.delenv("SECRET_KEY")
    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY_FILE"):
        secret_keys()


def test_production_refuses_to_start_without_a_shared_key(tmp_path):
    env = production_env(tmp_path)
    del env["SECRET_KEY"]
    result = run_python("import django; django.setup()", env)
    assert result.returncode != 0
    assert "SECRET_KEY (or SECRET_KEY_FILE) must be set" in result.stderr


def test_an_old_key_still_opens_what_it_signed(tmp_path):
    """Rotating the key: what the old one signed (a form, a session) stays
    valid while it is among the fallbacks."""
    (tmp_path / "new").write_text("nouvelle-clé-assez-longue-pour-la-production")
    env = production_env(
        tmp_path,
        SECRET_KEY_FILE=str(tmp_path / "new"),
        SECRET_KEY_FALLBACKS="ancienne-clé-assez-longue-pour-la-production",
    )
    del env["SECRET_KEY"]
    script = (
        "import django; django.setup()\n"
        "from django.core import signing\n"
        "old = signing.Signer(key='ancienne-clé-assez-longue-pour-la-production')\n"
        "print(signing.Signer().unsign(old.sign('formulaire')))\n"
    )
    result = run_python(script, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "formulaire"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "s3://CLE:SECRET%2Fx@s3.fr-par.scw.cloud/medias?region=fr-par",
            ("https://s3.fr-par.scw.cloud", "medias", "CLE", "SECRET/x", "fr-par"),
        ),
        (
            "s3+http://portal:motdepasse@127.0.0.1:8333/medias",
            ("http://127.0.0.1:8333", "medias", "portal", "motdepasse", "us-east-1"),
        ),
    ],
)
def test_the_object_store_reads_from_one_url(url, expected):
    store = ObjectStore.parse(url)
    assert (
        store.endpoint_url,
        store.bucket,
        store.access_key,
        store.secret_key,
        store.region,
    ) == expected


@pytest.mark.parametrize("url", ["ftp://h/b", "s3://cle:secret@hote", "s3:///b"])
def test_a_wrong_object_store_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured, match="MEDIA_STORAGE_URL"):
        ObjectStore.parse(url)


def test_with_an_object_store_media_are_served_by_the_portal(tmp_path):
    env = production_env(
        tmp_path, MEDIA_STORAGE_URL="s3+http://cle:secret@127.0.0.1:9/medias"
    )
    script = (
        "import django, json; django.setup()\n"
        "from django.core.files.storage import storages\n"
        "s = storages['default']\n"
        "print(json.dumps([type(s).__name__, s.bucket_name, s.url('a/b c.jpg'),"
        " s.default_acl, s.file_overwrite]))\n"
    )
    result = run_python(script, env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        "MediaStorage",
        "medias",
        "/media/a/b%20c.jpg",
        None,
        False,
    ]
