"""The national OGP repository as a static bilingual site: plain data in (`SiteData`), files out."""

from documents.site.data import SiteData
from documents.site.folder import SiteFolderError, Staging
from documents.site.render import SiteRenderer, SiteTemplateError

__all__ = ["SiteData", "SiteFolderError", "SiteRenderer", "SiteTemplateError", "Staging"]
