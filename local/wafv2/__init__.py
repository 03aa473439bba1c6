"""The local AWS's WAF: ListResourcesForWebACL (resources_for_web_acl.py), which `make destroy`
asks before the web ACL goes."""
