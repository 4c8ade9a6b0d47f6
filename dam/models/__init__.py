"""The database tables of the core. Importing this module registers them all."""

from dam.models.assets import (
    Asset,
    AssetKind,
    AssetStatus,
    AssetTag,
    LicenceStatus,
    Rendition,
)
from dam.models.audit import AuditEntry, AuditHead
from dam.models.captions import Caption
from dam.models.changes import ChangeRow
from dam.models.collections import Collection, CollectionAsset
from dam.models.consent import (
    AssetVerdict,
    Consent,
    ErasureTombstone,
    Notification,
    ShareLink,
    Usage,
    VerdictSet,
    VerdictStatus,
)
from dam.models.faces import Face, FaceEmbedding, FacePath, FaceState, Person
from dam.models.jobs import Job, JobStatus
from dam.models.uploads import ImportedFile, ImportRun, Upload
from dam.models.users import ApiToken, OidcLogin, Role, User

__all__ = [
    "ApiToken",
    "Asset",
    "AssetKind",
    "AssetStatus",
    "AssetTag",
    "AssetVerdict",
    "AuditEntry",
    "AuditHead",
    "Caption",
    "ChangeRow",
    "Collection",
    "CollectionAsset",
    "Consent",
    "ErasureTombstone",
    "Face",
    "FaceEmbedding",
    "FacePath",
    "FaceState",
    "ImportRun",
    "ImportedFile",
    "Job",
    "JobStatus",
    "LicenceStatus",
    "Notification",
    "OidcLogin",
    "Person",
    "Rendition",
    "Role",
    "ShareLink",
    "Upload",
    "Usage",
    "User",
    "VerdictSet",
    "VerdictStatus",
]
