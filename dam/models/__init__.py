"""The database tables of the core. Importing this module registers them all."""

from dam.models.assets import Asset, AssetKind, AssetStatus, AssetTag, Rendition
from dam.models.audit import AuditEntry, AuditHead
from dam.models.captions import Caption
from dam.models.collections import Collection, CollectionAsset
from dam.models.faces import Face, FaceEmbedding, FaceState, Person
from dam.models.jobs import Job, JobStatus
from dam.models.uploads import ImportedFile, Upload
from dam.models.users import ApiToken, Role, User

__all__ = [
    "ApiToken",
    "Asset",
    "AssetKind",
    "AssetStatus",
    "AssetTag",
    "AuditEntry",
    "AuditHead",
    "Caption",
    "Collection",
    "CollectionAsset",
    "Face",
    "FaceEmbedding",
    "FaceState",
    "ImportedFile",
    "Job",
    "JobStatus",
    "Person",
    "Rendition",
    "Role",
    "Upload",
    "User",
]
