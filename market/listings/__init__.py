"""科技成果库 and 企业技术需求库: listings, their lifecycle, showcase, import and read API."""
