"""The migration import: XMP sidecars and embedded metadata, mapping files, collections
from folders, licences, dry runs, parallel and resumable runs with a report of every file,
and people named in metadata becoming suggestions (never confirmations) on real faces."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlmodel import col, select

from dam.errors import InvalidInput
from dam.geometry import Box, iou
from dam.models import Asset, AssetTag, Collection, CollectionAsset, Face, FaceState, Person
from dam.runtime import Runtime
from gdpr.recognition.named_people import pair
from ingest import archive_xmp
from ingest.bulk_import import ImportOptions, import_all, sidecar_of, walk
from ingest.demo import jpeg_bytes, scene, xmp_packet
from ingest.faces.detect import detect_faces
from ingest.import_mapping import load_mapping, parse_mapping
from tests import faces_corpus, media
from tests.test_cli import cli_env, dam  # noqa: F401  (cli_env is a fixture)
from web import catalogs

pytestmark = pytest.mark.one_database

ACME = 'xmlns:acme="http://acme.example/ns/1.0/" '
MAPPING = """
[namespaces]
acme = "http://acme.example/ns/1.0/"

[fields]
"acme:Project" = "tags"
"acme:Code" = "meta.archive_code"
"acme:Photographer" = "licence.credit"
"""
MAPPING_YAML = """
namespaces:
  acme: http://acme.example/ns/1.0/
fields:
  acme:Project: tags
  "acme:Code": meta.archive_code
  acme:Photographer: licence.credit
"""


# --- pure: reading XMP, the mapping, pairing names with faces ---------------------------


def test_a_lightroom_sidecar_reads_completely() -> None:
    packet = xmp_packet(
        title="Opening brug",
        description="De burgemeester knipt het lint.",
        keywords=["brug", "opening"],
        hierarchical=["Plaatsen|België|Gent", "Evenementen|Opening"],
        rating=4,
        label="Green",
        creator="An Fotograaf",
        rights="© Stad Gent",
        credit="Stad Gent",
        usage_terms="Enkel voor communicatie van de stad",
        web_statement="https://example.test/licentie",
        alt_text="Een vrouw knipt een rood lint op een brug.",
        people=["Jan Peeters"],
        regions=[("Marie Claes", 0.1, 0.2, 0.2, 0.3)],
        extra="<acme:Code>GNT-0042</acme:Code>",
        extra_namespaces=ACME,
    )
    found = archive_xmp.parse(packet, {"acme:Code": "http://acme.example/ns/1.0/"})
    assert (found.title, found.description) == ("Opening brug", "De burgemeester knipt het lint.")
    assert found.keywords == [
        *("brug", "opening", "Plaatsen", "België", "Gent", "Evenementen", "Opening"),
    ]  # tags are lower-cased (and so merged) when stored
    assert (found.rating, found.label, found.creator) == (4, "Green", "An Fotograaf")
    assert (found.copyright, found.credit) == ("© Stad Gent", "Stad Gent")
    assert found.usage_terms == "Enkel voor communicatie van de stad"
    assert found.web_statement == "https://example.test/licentie"
    assert found.alt_text == "Een vrouw knipt een rood lint op een brug."
    assert found.people == ["Jan Peeters"]
    [region] = found.regions
    assert region.name == "Marie Claes"
    assert (region.x, region.y, region.w, region.h) == pytest.approx((0.1, 0.2, 0.2, 0.3))
    assert found.custom == {"acme:Code": ["GNT-0042"]}
    assert found.people_names() == ["Marie Claes", "Jan Peeters"]


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        b"not xml at all",
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF',  # cut off
        # A billion laughs: refused by defusedxml, read as empty.
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>&b;</rdf:RDF></x:xmpmeta>',
    ],
)
def test_a_broken_or_hostile_sidecar_reads_as_empty(packet: bytes) -> None:
    assert archive_xmp.parse(packet) == archive_xmp.ArchiveXmp()


def test_a_mapping_names_every_problem_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_mapping(
            {
                "fields": {
                    "nons:Thing": "tags",
                    "dc:title": "colour",
                    "acme": "title",
                    "photoshop:Headline": "licence.price",
                }
            }
        )
    message = caught.value.message
    for part in ("nons:Thing", "'colour'", "acme:", "licence.price"):
        assert part in message
    # Each problem is a message of its own: the list reads in the reader's language too.
    dutch = catalogs.translate("nl", caught.value.template, caught.value.params)
    assert dutch.startswith("Het koppelingsbestand heeft problemen: nons:Thing: vermeld het prefix")
    assert "dc:title: onbekend doel 'colour'" in dutch and "unknown" not in dutch
    mapping = parse_mapping({"fields": {"photoshop:Headline": "title"}})
    into: dict = {"title": ""}
    mapping.apply({"photoshop:Headline": ["Kop"]}, into)
    assert into["title"] == "Kop"


def test_a_yaml_mapping_reads_as_its_toml_twin(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(MAPPING)
    for name in ("m.yaml", "m.YML"):
        (tmp_path / name).write_text(MAPPING_YAML)
        assert load_mapping(tmp_path / name) == load_mapping(tmp_path / "m.toml")
    into: dict = {}
    load_mapping(tmp_path / "m.yaml").apply({"acme:Code": ["GNT-7"]}, into)
    assert into == {"meta": {"archive_code": "GNT-7"}}


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("fields: [a, b", "is not valid YAML"),
        ("- acme:Project\n- tags\n", "needs a [fields] table"),
        ("fields:\n  dc:title: [title, tags]\n", "dc:title: unknown target 'list'"),
        ("fields:\n  nons:Thing: tags\n", "declare the prefix 'nons' under [namespaces]"),
        ("namespaces:\n  acme: [1]\nfields:\n  acme:X: tags\n", "must be a table of prefix"),
        ("fields:\n  dc:title: !!python/object/apply:os.system [echo]\n", "not valid YAML"),
        # Aliases that would expand to 9^9 strings: read as shared references, refused
        # as a target without being expanded.
        (
            "a: &a [x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"{b}: &{b} [*{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}, *{a}]\n"
                for a, b in zip("abcdefgh", "bcdefghi", strict=True)
            )
            + "fields:\n  dc:title: *i\n",
            "unknown target 'list'",
        ),
    ],
    ids=["syntax", "not-a-table", "list-target", "prefix", "namespaces", "python-tag", "bomb"],
)
def test_a_yaml_mapping_says_what_is_wrong(tmp_path: Path, text: str, says: str) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        load_mapping(path)
    assert says in caught.value.message


def test_a_mapping_file_larger_than_a_mapping_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "mapping.yaml"
    path.write_text("# " + "x" * (1024 * 1024) + "\nfields:\n  dc:title: title\n")
    with pytest.raises(InvalidInput, match="larger than a mapping can be"):
        load_mapping(path)


def test_names_pair_with_the_face_their_region_covers_best() -> None:
    faces = [("left", Box(0.1, 0.1, 0.2, 0.2)), ("right", Box(0.6, 0.1, 0.2, 0.2))]
    assert pair([("Jan", Box(0.62, 0.12, 0.18, 0.2))], [], faces) == {"right": "Jan"}
    # A region next to every face matches none; a loose name needs a lone face.
    assert pair([("Jan", Box(0.35, 0.6, 0.1, 0.1))], ["Piet"], faces) == {}
    assert pair([], ["Piet"], faces[:1]) == {"left": "Piet"}
    assert iou(Box(0, 0, 1, 1), Box(0, 0, 1, 1)) == 1.0


def test_sidecars_are_found_beside_their_picture_and_not_imported_themselves(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.jpg").write_bytes(b"x")
    (tmp_path / "a.jpg.xmp").write_bytes(b"x")
    (tmp_path / "b.NEF").write_bytes(b"x")
    (tmp_path / "b.xmp").write_bytes(b"x")
    (tmp_path / "c.png").write_bytes(b"x")
    assert [c.path.name for c in walk([tmp_path])] == ["a.jpg", "b.NEF", "c.png"]
    assert sidecar_of(tmp_path / "a.jpg") == tmp_path / "a.jpg.xmp"
    assert sidecar_of(tmp_path / "b.NEF") == tmp_path / "b.xmp"
    assert sidecar_of(tmp_path / "c.png") is None


# --- the command: dry run, real run with everything, re-run ----------------------------


def _archive(root: Path) -> None:
    events = root / "Evenementen" / "2019"
    events.mkdir(parents=True)
    photo = media.jpeg(800, 600, seed=31)
    (events / "lint.jpg").write_bytes(photo)
    (events / "lint.jpg.xmp").write_bytes(
        xmp_packet(
            title="Opening brug",
            description="Het lint wordt doorgeknipt.",
            hierarchical=["Plaatsen|Gent"],
            rating=5,
            label="Red",
            alt_text="Een rood lint over een brug.",
            rights="© Stad Gent",
            extra="<acme:Project>Bruggen</acme:Project><acme:Code>GNT-7</acme:Code>",
            extra_namespaces=ACME,
        )
    )
    (events / "kopie.jpg").write_bytes(photo)  # the same content again
    (events / "markt.jpg").write_bytes(media.jpeg(640, 480, seed=32))
    (events / "markt.xmp").write_bytes(  # Lightroom's name for a sidecar
        xmp_packet(
            title="Markt",
            keywords=["markt"],
            extra="<acme:Photographer>Piet Beeld</acme:Photographer>",
            extra_namespaces=ACME,
        )
    )
    (root / "Portretten").mkdir()
    (root / "Portretten" / "logo.png").write_bytes(media.png())
    broken = media.jpeg(1000, 800, seed=33)
    (root / "stuk.jpg").write_bytes(broken[: len(broken) // 3])
    (root / "notities.txt").write_bytes(b"geen foto, gewoon tekst " * 5)


def test_the_migration_import(cli_env: dict[str, str], tmp_path: Path) -> None:  # noqa: F811
    root = tmp_path / "archief"
    _archive(root)
    (tmp_path / "mapping.toml").write_text(MAPPING)
    added = dam(
        "user", "add", "--email", "beheer@example.be", "--role", "admin",
        stdin="long enough password\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    options = [
        "--owner", "beheer@example.be",
        "--licence", "own",
        "--credit", "Foto: Team Communicatie",
        "--collections-from-folders", "--folder-depth", "2",
        "--mapping", str(tmp_path / "mapping.toml"),
    ]  # fmt: skip

    dry = dam("import", str(root), "--dry-run", "--report", str(tmp_path / "dry.csv"), *options)
    assert "Dry run: would import 5, duplicates 0, already imported 0, would refuse 1" in dry.output
    assert "notities.txt:Thisfiletypeisnotaccepted" in dry.compact
    engine_url = cli_env["DAM_DATABASE_URL"]
    assert _count_assets(engine_url) == 0  # nothing stored

    report = tmp_path / "import.csv"
    first = dam("import", str(root), "--workers", "2", "--report", str(report), *options)
    assert first.exit_code == 1, first.output  # one refused, one not processable
    assert "duplicates 1, already imported 0, refused 1" in first.output
    assert "stuk.jpg:Thefileiscutoff" in first.compact
    rows = {Path(r["path"]).name: r for r in csv.DictReader(report.open(encoding="utf-8"))}
    # Two threads: which copy of the same picture comes first is a race; the other is
    # the duplicate, and the sidecar's details reach the stored asset either way.
    assert {rows["lint.jpg"]["outcome"], rows["kopie.jpg"]["outcome"]} == {
        "imported",
        "duplicate",
    }
    assert rows["lint.jpg"]["asset_id"] == rows["kopie.jpg"]["asset_id"]
    assert {name: r["outcome"] for name, r in rows.items()} == {
        "lint.jpg": rows["lint.jpg"]["outcome"],
        "kopie.jpg": rows["kopie.jpg"]["outcome"],
        "markt.jpg": "imported",
        "logo.png": "imported",
        "stuk.jpg": "imported",  # stored; its processing failed (kept for a retry)
        "notities.txt": "refused",
    }
    assert rows["lint.jpg"]["sidecar"].endswith("lint.jpg.xmp")
    assert rows["markt.jpg"]["sidecar"].endswith("markt.xmp")
    assert rows["lint.jpg"]["collection"] == "Evenementen / 2019"
    assert rows["notities.txt"]["reason"].startswith("This file type is not accepted")

    from sqlmodel import Session

    from dam.db import make_engine

    with Session(make_engine(engine_url)) as session:
        lint = session.get(Asset, rows["lint.jpg"]["asset_id"])  # whichever copy stored it
        markt = session.get(Asset, rows["markt.jpg"]["asset_id"])
        assert lint is not None and markt is not None
        assert (lint.title, lint.description) == ("Opening brug", "Het lint wordt doorgeknipt.")
        assert lint.alt_text == "Een rood lint over een brug."
        assert lint.licence_status == "own"
        assert lint.licence["copyright"] == "© Stad Gent"
        assert lint.licence["credit"] == "Foto: Team Communicatie"  # the import's default
        assert markt.licence["credit"] == "Piet Beeld"  # the file's own, mapped, wins
        assert (lint.meta["rating"], lint.meta["label"]) == (5, "Red")
        assert lint.meta["archive_code"] == "GNT-7"
        assert "camera" in lint.meta  # the probe read the file as well
        tags = set(session.exec(select(AssetTag.tag).where(AssetTag.asset_id == lint.id)))
        assert tags == {"plaatsen", "gent", "bruggen"}
        [events] = session.exec(select(Collection).where(Collection.title == "Evenementen / 2019"))
        members = set(
            session.exec(
                select(CollectionAsset.asset_id).where(CollectionAsset.collection_id == events.id)
            )
        )
        assert members == {lint.id, markt.id}

    again = dam("import", str(root), "--workers", "2", "--report", str(report), *options)
    assert "Imported 0 (0 of them could not be processed), duplicates 0, already imported 5" in (
        again.output
    )
    assert _count_assets(engine_url) == 4
    mapping_error = tmp_path / "bad.toml"
    mapping_error.write_text('[fields]\n"nons:Y" = "title"\n')
    refused = dam("import", str(root), "--mapping", str(mapping_error))
    assert refused.exit_code != 0
    assert "declaretheprefix'nons'" in refused.compact
    yaml_error = tmp_path / "bad.yaml"
    yaml_error.write_text("fields:\n  dc:title: kleur\n")
    refused = dam("import", str(root), "--mapping", str(yaml_error))
    assert refused.exit_code != 0
    assert "unknowntarget'kleur'" in refused.compact


def _count_assets(url: str) -> int:
    from sqlmodel import Session

    from dam.db import make_engine

    with Session(make_engine(url)) as session:
        return len(list(session.exec(select(Asset.id))))


# --- people named in metadata: suggestions on real detected faces ----------------------


def test_people_named_in_a_sidecar_become_suggestions_on_the_faces_they_cover(
    rt: Runtime, tmp_path: Path
) -> None:
    try:
        photo = faces_corpus.dlib_examples() / "faces" / "2008_002506.jpg"
    except faces_corpus.FacesCorpusUnavailable as exc:
        pytest.skip(str(exc))
    with Image.open(photo) as image:
        rgb = np.asarray(image.convert("RGB"))
        width, height = image.size
    boxes = sorted((d.box for d in detect_faces(rgb)), key=lambda b: b.x)
    assert len(boxes) == 3
    middle = boxes[1]
    folder = tmp_path / "archief"
    folder.mkdir()
    (folder / "groep.jpg").write_bytes(photo.read_bytes())
    (folder / "groep.jpg.xmp").write_bytes(
        xmp_packet(
            regions=[
                (
                    "Jan Peeters",
                    middle.x / width,
                    middle.y / height,
                    middle.w / width,
                    middle.h / height,
                )
            ],
            people=["Iemand Anders"],  # a loose name with three faces: no guess
        )
    )
    summary = import_all(rt, list(walk([folder])), owner=None, options=ImportOptions(), workers=1)
    [asset_id] = summary.imported
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None and asset.status == "ready", asset and asset.error
        assert "named_people" not in asset.meta  # consumed: no name lingers on the asset
        faces = sorted(
            session.exec(select(Face).where(Face.asset_id == asset_id)), key=lambda f: f.box_x
        )
        assert len(faces) == 3
        assert faces[1].state == FaceState.suggested  # a person still confirms
        jan = session.get(Person, faces[1].person_id)
        assert jan is not None and jan.name == "Jan Peeters"
        assert all(f.person_id != jan.id for f in (faces[0], faces[2]))
        assert not list(session.exec(select(Person).where(Person.name == "Iemand Anders")))
        assert not list(
            session.exec(
                select(Face).where(
                    Face.asset_id == asset_id, col(Face.state) == FaceState.confirmed
                )
            )
        )


def test_embedded_xmp_fills_alt_text_rating_and_hierarchical_tags(
    rt: Runtime, tmp_path: Path
) -> None:
    data = jpeg_bytes(
        scene(640, 480, seed=41),
        xmp=xmp_packet(
            hierarchical=["Dieren|Honden"],
            rating=3,
            label="Blue",
            alt_text="Een hond op het strand.",
        ),
    )
    (tmp_path / "hond.jpg").write_bytes(data)
    summary = import_all(
        rt,
        list(walk([tmp_path / "hond.jpg"])),
        owner=None,
        options=ImportOptions(),
        workers=1,
    )
    [asset_id] = summary.imported
    with rt.session() as session:
        asset = session.get(Asset, asset_id)
        assert asset is not None
        assert asset.alt_text == "Een hond op het strand."
        assert (asset.meta["rating"], asset.meta["label"]) == (3, "Blue")
        tags = set(session.exec(select(AssetTag.tag).where(AssetTag.asset_id == asset_id)))
        assert tags == {"dieren", "honden"}
        assert asset.licence_status == "unknown"  # nobody said whose it is
