"""The service's routers: each endpoint is a thin layer over one library function."""
