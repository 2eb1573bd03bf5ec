"""The FrontDesk cloud tenant service: auth, tenancy, authoritative commands, change feed.

Imports only `frontdesk.domain` and `frontdesk.protocol` from the desk package.
"""
