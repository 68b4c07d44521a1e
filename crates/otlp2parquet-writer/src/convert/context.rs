//! Resource and scope columns: stringified once per resource/scope, appended per row.

use std::collections::HashMap;

use arrow_array::types::UInt32Type;
use otlp2parquet_proto::{Resource, Scope};

use super::attrs::{AttrWriter, service_name};
use super::columns::{EncodedMap, MapCol, PrimCol, StrCol};
use crate::key::safe_service_name;

/// A resource's columns, computed once.
struct ResourceCtx<'r> {
    service: String,
    service_id: usize,
    schema_url: &'r str,
    attrs: EncodedMap,
    /// Bytes this resource adds to every row (see [`ScopeCtx::repeat_bytes`]).
    repeat_bytes: u64,
}

/// A scope's columns, computed once; rows refer to it by index.
pub(crate) struct ScopeCtx<'r> {
    resource: usize,
    name: &'r str,
    version: &'r str,
    schema_url: &'r str,
    dropped: u32,
    attrs: EncodedMap,
    /// The key-safe service id, the partitioning key of every row of this scope.
    pub(crate) service_id: usize,
    /// Bytes of resource and scope text repeated on every row of this scope: a request
    /// with a huge resource and many tiny records expands by this much per row.
    pub(crate) repeat_bytes: u64,
}

/// The resources and scopes of one request, and the distinct safe service names.
#[derive(Default)]
pub(crate) struct Contexts<'r> {
    resources: Vec<ResourceCtx<'r>>,
    scopes: Vec<ScopeCtx<'r>>,
    services: Vec<String>,
    service_ids: HashMap<String, usize>,
}

impl<'r> Contexts<'r> {
    /// Registers a resource; returns its index for [`Contexts::add_scope`].
    pub(crate) fn add_resource(
        &mut self,
        resource: &'r Resource<'_>,
        schema_url: &'r str,
        w: &mut AttrWriter,
    ) -> usize {
        let service = service_name(&resource.attributes, w);
        let safe = safe_service_name(&service);
        let service_id = match self.service_ids.get(safe.as_ref()) {
            Some(&id) => id,
            None => {
                let id = self.services.len();
                self.services.push(safe.clone().into_owned());
                self.service_ids.insert(safe.into_owned(), id);
                id
            }
        };
        let attrs = w.collect(&resource.attributes);
        let repeat_bytes = attrs.row_bytes() as u64 + (service.len() + schema_url.len()) as u64;
        self.resources.push(ResourceCtx {
            service,
            service_id,
            schema_url,
            attrs,
            repeat_bytes,
        });
        self.resources.len() - 1
    }

    /// Registers a scope of resource `resource`; returns its index, which rows carry.
    pub(crate) fn add_scope(
        &mut self,
        resource: usize,
        scope: &'r Scope<'_>,
        schema_url: &'r str,
        w: &mut AttrWriter,
    ) -> usize {
        let attrs = w.collect(&scope.attributes);
        let (service_id, resource_bytes) = self
            .resources
            .get(resource)
            .map_or((0, 0), |r| (r.service_id, r.repeat_bytes));
        let own = (scope.name.len() + scope.version.len() + schema_url.len()) as u64;
        self.scopes.push(ScopeCtx {
            resource,
            name: &scope.name,
            version: &scope.version,
            schema_url,
            dropped: scope.dropped_attributes_count,
            repeat_bytes: resource_bytes + own + attrs.row_bytes() as u64,
            attrs,
            service_id,
        });
        self.scopes.len() - 1
    }

    /// The scope registered under `index`.
    pub(crate) fn scope(&self, index: usize) -> Option<&ScopeCtx<'r>> {
        self.scopes.get(index)
    }

    /// The safe service name with id `id`.
    pub(crate) fn service(&self, id: usize) -> &str {
        self.services.get(id).map_or("", String::as_str)
    }

    fn resource_of(&self, scope: &ScopeCtx<'r>) -> Option<&ResourceCtx<'r>> {
        self.resources.get(scope.resource)
    }
}

/// Which resource/scope columns a table has.
#[derive(Clone, Copy)]
pub(crate) struct Parts {
    pub(crate) schema_urls: bool,
    pub(crate) scope_attributes: bool,
    pub(crate) scope_dropped: bool,
}

/// The resource and scope columns of one batch (the shared builder of every table).
pub(crate) struct ResourceScopeCols {
    parts: Parts,
    pub(crate) service: StrCol,
    pub(crate) resource_schema_url: StrCol,
    pub(crate) resource_attrs: MapCol,
    pub(crate) scope_schema_url: StrCol,
    pub(crate) scope_name: StrCol,
    pub(crate) scope_version: StrCol,
    pub(crate) scope_attrs: MapCol,
    pub(crate) scope_dropped: PrimCol<UInt32Type>,
}

impl ResourceScopeCols {
    pub(crate) fn with_capacity(rows: usize, parts: Parts) -> Self {
        let opt = |on: bool| if on { rows } else { 0 };
        Self {
            parts,
            service: StrCol::with_capacity(rows, rows * 16),
            resource_schema_url: StrCol::with_capacity(opt(parts.schema_urls), 0),
            resource_attrs: MapCol::with_capacity(rows, rows * 4, rows * 128),
            scope_schema_url: StrCol::with_capacity(opt(parts.schema_urls), 0),
            scope_name: StrCol::with_capacity(rows, rows * 16),
            scope_version: StrCol::with_capacity(rows, rows * 8),
            scope_attrs: MapCol::with_capacity(opt(parts.scope_attributes), 0, 0),
            scope_dropped: PrimCol::with_capacity(opt(parts.scope_dropped)),
        }
    }

    /// Appends the columns of `scope` (and its resource) for one row.
    pub(crate) fn append(&mut self, ctx: &Contexts<'_>, scope: usize) {
        let Some(sc) = ctx.scope(scope) else { return };
        let Some(res) = ctx.resource_of(sc) else {
            return;
        };
        self.service.push(&res.service);
        self.resource_attrs.entries(&res.attrs);
        self.resource_attrs.close();
        self.scope_name.push(sc.name);
        self.scope_version.push(sc.version);
        if self.parts.schema_urls {
            self.resource_schema_url.push(res.schema_url);
            self.scope_schema_url.push(sc.schema_url);
        }
        if self.parts.scope_attributes {
            self.scope_attrs.entries(&sc.attrs);
            self.scope_attrs.close();
        }
        if self.parts.scope_dropped {
            self.scope_dropped.push(sc.dropped);
        }
    }
}
