import { notFound } from '../http/errors.js';
import type { EmulatorRequestContext } from '../http/types.js';
import type { EmulatorModuleContext } from '../module.js';
import type { ObjectSchema, ResolvedField } from '../store/schema.js';

const DATA = '/services/data/:version/sobjects/:sobject/describe';

/** Named layouts a new org has (`User` → `UserAlt`, the user profile page layout). */
const NAMED_LAYOUTS: Readonly<Record<string, readonly string[]>> = { User: ['UserAlt'] };

/** Fields a page layout shows: everything a user can see except system and audit plumbing. */
function layoutFields(schema: ObjectSchema): ResolvedField[] {
  const hidden = new Set([
    'Id',
    'IsDeleted',
    'SystemModstamp',
    'MasterRecordId',
    'LastViewedDate',
    'LastReferencedDate',
  ]);
  return schema.fields.filter((f) => !hidden.has(f.name));
}

function layoutItem(field: ResolvedField, tabOrder: number): Record<string, unknown> {
  return {
    editableForNew: field.createable,
    editableForUpdate: field.updateable,
    label: field.label,
    layoutComponents: [{ displayLines: 1, tabOrder, type: 'Field', value: field.name }],
    placeholder: false,
    required: field.required,
  };
}

/** One two-column section of `fields`, rows filled left to right. */
function section(
  heading: string,
  fields: ResolvedField[],
  layoutId: string,
  sectionId: string,
): Record<string, unknown> {
  const rows: Array<Record<string, unknown>> = [];
  for (let i = 0; i < fields.length; i += 2) {
    const items = fields.slice(i, i + 2).map((f, j) => layoutItem(f, i + j + 1));
    rows.push({ layoutItems: items, numItems: items.length });
  }
  return {
    collapsed: false,
    columns: 2,
    heading,
    layoutRows: rows,
    layoutSectionId: sectionId,
    parentLayoutId: layoutId,
    rows: rows.length,
    tabOrder: 'TopToBottom',
    useCollapsibleSection: false,
    useHeading: true,
  };
}

/**
 * A page layout generated from the object's fields (`describe/layouts`): one "Information"
 * section for detail and edit, related lists for its child relationships, standard buttons.
 */
function pageLayout(schema: ObjectSchema, layoutId: string, sectionId: string): Record<string, unknown> {
  const fields = layoutFields(schema);
  const information = section(`${schema.label} Information`, fields, layoutId, sectionId);
  return {
    buttonLayoutSection: {
      detailButtons: ['Edit', 'Delete', 'Clone'].map((name) => ({
        behavior: null,
        colors: null,
        content: null,
        contentSource: null,
        custom: false,
        encoding: null,
        height: null,
        icons: null,
        label: name,
        menubar: false,
        name,
        overridden: false,
        resizeable: false,
        scrollbars: false,
        showsLocation: false,
        showsStatus: false,
        toolbar: false,
        url: null,
        width: null,
        windowPosition: null,
      })),
    },
    detailLayoutSections: [information],
    editLayoutSections: [information],
    feedView: null,
    highlightsPanelLayoutSection: null,
    id: layoutId,
    multirowEditLayoutSections: [],
    offlineLinks: [],
    quickActionList: { quickActionListItems: [] },
    relatedContent: null,
    relatedLists: schema.childRelationships.map((relation) => ({
      accessLevelRequiredForCreate: null,
      buttons: [],
      columns: [],
      custom: false,
      field: relation.field,
      label: relation.relationshipName,
      limitRows: 5,
      name: relation.relationshipName,
      sobject: relation.childSObject,
      sort: [],
    })),
    saveOptions: [],
  };
}

/**
 * Registers `describe/layouts`, `describe/namedLayouts/{name}`, `describe/compactLayouts` and
 * `describe/approvalLayouts`. Layouts are generated from the schema (the emulator stores no
 * layout metadata); their ids are stable per emulator.
 */
export function registerLayoutRoutes(context: EmulatorModuleContext): void {
  const { router, store, ids } = context;
  const stableIds = new Map<string, string>();
  const stableId = (prefix: string, key: string): string => {
    let id = stableIds.get(`${prefix}/${key}`);
    if (!id) {
      id = ids.next(prefix);
      stableIds.set(`${prefix}/${key}`, id);
    }
    return id;
  };
  const schemaOf = (request: EmulatorRequestContext): ObjectSchema => {
    const schema = store.schema(request.params.sobject ?? '');
    if (!schema) throw notFound();
    return schema;
  };
  const layouts = (schema: ObjectSchema, name: string) => ({
    // 00h = Layout, 01B = layout section.
    layouts: [
      pageLayout(
        schema,
        stableId('00h', `${schema.name}/${name}`),
        stableId('01B', `${schema.name}/${name}`),
      ),
    ],
    recordTypeMappings: [],
    recordTypeSelectorRequired: [false],
  });

  router.add({
    method: 'GET',
    pattern: `${DATA}/layouts`,
    kind: 'api',
    handler: (request) => ({ status: 200, body: layouts(schemaOf(request), '') }),
  });
  router.add({
    method: 'GET',
    pattern: `${DATA}/namedLayouts/:name`,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const name = request.params.name ?? '';
      if (!NAMED_LAYOUTS[schema.name]?.includes(name)) throw notFound();
      return { status: 200, body: layouts(schema, name) };
    },
  });
  router.add({
    method: 'GET',
    pattern: `${DATA}/compactLayouts`,
    kind: 'api',
    handler: (request) => {
      const schema = schemaOf(request);
      const name = schema.field('Name') ? ['Name'] : ['Id'];
      const fields = [...name, 'OwnerId']
        .map((n) => schema.field(n))
        .filter((f): f is ResolvedField => f !== undefined);
      return {
        status: 200,
        body: {
          compactLayouts: [
            {
              actions: [],
              fieldItems: fields.map((f, i) => layoutItem(f, i + 1)),
              id: null,
              imageItems: [],
              label: 'System Default',
              name: 'SYSTEM',
              objectType: schema.name,
            },
          ],
          defaultCompactLayoutId: null,
          recordTypeCompactLayoutMappings: [],
        },
      };
    },
  });
  router.add({
    method: 'GET',
    pattern: `${DATA}/approvalLayouts`,
    kind: 'api',
    // The emulator has no approval processes, so no object has an approval layout.
    handler: (request) => {
      schemaOf(request);
      return { status: 200, body: { approvalLayouts: [] } };
    },
  });
}
