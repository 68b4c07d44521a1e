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

    /// What rows of the scopes `scopes` add to each resource/scope column, to size them
    /// exactly: growing a column by doubling copies it several times.
    fn sizes(&self, scopes: impl Iterator<Item = usize>) -> Sizes {
        let mut z = Sizes::default();
        for sc in scopes.filter_map(|i| self.scope(i)) {
            let Some(res) = self.resource_of(sc) else {
                continue;
            };
            z.service += res.service.len();
            z.resource_url += res.schema_url.len();
            z.resource_entries += res.attrs.len();
            z.resource_keys += res.attrs.key_bytes();
            z.resource_values += res.attrs.value_bytes();
            z.scope_url += sc.schema_url.len();
            z.scope_name += sc.name.len();
            z.scope_version += sc.version.len();
            z.scope_entries += sc.attrs.len();
            z.scope_keys += sc.attrs.key_bytes();
            z.scope_values += sc.attrs.value_bytes();
        }
        z
    }
}

/// Bytes (and map entries) of the resource/scope columns of a batch.
#[derive(Default)]
struct Sizes {
    service: usize,
    resource_url: usize,
    resource_entries: usize,
    resource_keys: usize,
    resource_values: usize,
    scope_url: usize,
    scope_name: usize,
    scope_version: usize,
    scope_entries: usize,
    scope_keys: usize,
    scope_values: usize,
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
    /// Columns sized for rows of the scopes `scopes` (one item per row).
    pub(crate) fn with_capacity(
        ctx: &Contexts<'_>,
        scopes: impl ExactSizeIterator<Item = usize>,
        parts: Parts,
    ) -> Self {
        let rows = scopes.len();
        let z = ctx.sizes(scopes);
        let opt = |on: bool, n: usize| if on { n } else { 0 };
        let urls = parts.schema_urls;
        let scope_attrs = parts.scope_attributes;
        Self {
            parts,
            service: StrCol::with_capacity(rows, z.service),
            resource_schema_url: StrCol::with_capacity(opt(urls, rows), opt(urls, z.resource_url)),
            resource_attrs: MapCol::with_sizes(
                rows,
                z.resource_entries,
                z.resource_keys,
                z.resource_values,
            ),
            scope_schema_url: StrCol::with_capacity(opt(urls, rows), opt(urls, z.scope_url)),
            scope_name: StrCol::with_capacity(rows, z.scope_name),
            scope_version: StrCol::with_capacity(rows, z.scope_version),
            scope_attrs: MapCol::with_sizes(
                opt(scope_attrs, rows),
                opt(scope_attrs, z.scope_entries),
                opt(scope_attrs, z.scope_keys),
                opt(scope_attrs, z.scope_values),
            ),
            scope_dropped: PrimCol::with_capacity(opt(parts.scope_dropped, rows)),
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
