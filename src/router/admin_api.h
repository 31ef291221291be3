// The admin API under /api/v1/admin (docs/admin-api.md): tenants, their API
// keys and datasets in the service database, through the tenancy Registry.
// Every request needs `Authorization: Bearer <[auth] admin_api_key>`; with no
// admin key configured the API answers 404.
#pragma once

#include <httplib.h>

#include "auth/auth.h"
#include "tenancy/registry.h"

namespace signaldb::router {

// `registry` (not owned) outlives the server; null: the admin API answers 404.
void RegisterAdminApi(httplib::Server& server, tenancy::Registry* registry);

}  // namespace signaldb::router
