/**
 * Visualforce code completions (`GET …/tooling/completions?type=visualforce`): a documented
 * subset of the standard `apex:` components — the ones a page, form or table is built from.
 *
 * Where the data comes from: a `completions?type=visualforce` response captured from an org
 * (Summer '19, API 46.0; kept as data in xjsender/haoide-vscode,
 * `src/salesforce/completions/lib/front/vf.ts`), spot-checked against the Visualforce Developer
 * Guide's Standard Component Reference. For each component: `simple` and every attribute with its
 * type, as captured. Note that `simple` does not mean "takes no body": `apex:column` and
 * `apex:commandLink` are `simple: true` although both take child content, `apex:outputText` is
 * `false` — so its meaning is not documented and the captured value is served as it is.
 *
 * Notation (ours, to keep the table short): `name:Type`, or `name:Type=v1|v2|…` for an attribute
 * with a fixed list of values. Every `Boolean` attribute lists the values `true` and `false`, as in
 * the captured response.
 */

/** One attribute of a component: its type and, for Booleans and picklists, the allowed values. */
export interface VisualforceAttributeCompletion {
  type: string;
  values?: string[];
}

/** One component: `simple` as Salesforce reports it, and its attributes by name. */
export interface VisualforceComponentCompletion {
  simple: boolean;
  attribs: Record<string, VisualforceAttributeCompletion>;
}

const STANDARD_COMPONENTS: Record<string, [simple: boolean, attributes: string]> = {
  'apex:actionFunction': [
    true,
    'action:ApexPages.Action focus:String id:String immediate:Boolean name:String ' +
      'namespace:String onbeforedomupdate:String oncomplete:String rendered:Boolean ' +
      'reRender:Object status:String timeout:Integer',
  ],
  'apex:actionStatus': [
    false,
    'dir:String for:String id:String lang:String layout:String onclick:String ' +
      'ondblclick:String onkeydown:String onkeypress:String onkeyup:String ' +
      'onmousedown:String onmousemove:String onmouseout:String onmouseover:String ' +
      'onmouseup:String onstart:String onstop:String rendered:Boolean startStyle:String ' +
      'startStyleClass:String startText:String stopStyle:String stopStyleClass:String ' +
      'stopText:String style:String styleClass:String title:String',
  ],
  'apex:actionSupport': [
    true,
    'action:ApexPages.Action disabled:Boolean disableDefault:Boolean event:String ' +
      'focus:String id:String immediate:Boolean onbeforedomupdate:String oncomplete:String ' +
      'onsubmit:String rendered:Boolean reRender:Object status:String timeout:Integer',
  ],
  'apex:column': [
    true,
    'breakBefore:Boolean colspan:Integer dir:String footerClass:String footerValue:String ' +
      'headerClass:String headerValue:String id:String lang:String onclick:String ' +
      'ondblclick:String onkeydown:String onkeypress:String onkeyup:String ' +
      'onmousedown:String onmousemove:String onmouseout:String onmouseover:String ' +
      'onmouseup:String rendered:Boolean rowspan:Integer style:String styleClass:String ' +
      'title:String value:String width:String',
  ],
  'apex:commandButton': [
    true,
    'accesskey:String action:ApexPages.Action alt:String dir:String disabled:Boolean ' +
      'id:String image:String immediate:Boolean lang:String onblur:String onclick:String ' +
      'oncomplete:String ondblclick:String onfocus:String onkeydown:String ' +
      'onkeypress:String onkeyup:String onmousedown:String onmousemove:String ' +
      'onmouseout:String onmouseover:String onmouseup:String rendered:Boolean ' +
      'reRender:Object status:String style:String styleClass:String tabindex:String ' +
      'timeout:Integer title:String value:Object',
  ],
  'apex:commandLink': [
    true,
    'accesskey:String action:ApexPages.Action charset:String coords:String dir:String ' +
      'hreflang:String id:String immediate:Boolean lang:String onblur:String onclick:String ' +
      'oncomplete:String ondblclick:String onfocus:String onkeydown:String ' +
      'onkeypress:String onkeyup:String onmousedown:String onmousemove:String ' +
      'onmouseout:String onmouseover:String onmouseup:String rel:String rendered:Boolean ' +
      'reRender:Object rev:String shape:String status:String style:String styleClass:String ' +
      'tabindex:String target:String timeout:Integer title:String type:String value:Object',
  ],
  'apex:dataTable': [
    false,
    'align:String bgcolor:String border:String captionClass:String captionStyle:String ' +
      'cellpadding:String cellspacing:String columnClasses:String columns:Integer ' +
      'columnsWidth:String dir:String first:Integer footerClass:String frame:String ' +
      'headerClass:String id:String lang:String onclick:String ondblclick:String ' +
      'onkeydown:String onkeypress:String onkeyup:String onmousedown:String ' +
      'onmousemove:String onmouseout:String onmouseover:String onmouseup:String ' +
      'onRowClick:String onRowDblClick:String onRowMouseDown:String onRowMouseMove:String ' +
      'onRowMouseOut:String onRowMouseOver:String onRowMouseUp:String rendered:Boolean ' +
      'rowClasses:String rows:Integer rules:String style:String styleClass:String ' +
      'summary:String title:String value:Object var:String width:String',
  ],
  'apex:facet': [false, 'name:String'],
  'apex:form': [
    false,
    'accept:String acceptcharset:String dir:String enctype:String forceSSL:Boolean ' +
      'id:String lang:String onclick:String ondblclick:String onkeydown:String ' +
      'onkeypress:String onkeyup:String onmousedown:String onmousemove:String ' +
      'onmouseout:String onmouseover:String onmouseup:String onreset:String onsubmit:String ' +
      'prependId:Boolean rendered:Boolean style:String styleClass:String target:String ' +
      'title:String',
  ],
  'apex:image': [
    true,
    'alt:String dir:String height:String id:String ismap:Boolean lang:String ' +
      'longdesc:String onclick:String ondblclick:String onkeydown:String onkeypress:String ' +
      'onkeyup:String onmousedown:String onmousemove:String onmouseout:String ' +
      'onmouseover:String onmouseup:String rendered:Boolean style:String styleClass:String ' +
      'title:String url:String usemap:String value:Object width:String',
  ],
  'apex:includeScript': [true, 'id:String loadOnReady:Boolean value:Object'],
  'apex:inputCheckbox': [
    true,
    'accesskey:String dir:String disabled:Boolean id:String immediate:Boolean ' +
      'label:String lang:String onblur:String onchange:String onclick:String ' +
      'ondblclick:String onfocus:String onkeydown:String onkeypress:String onkeyup:String ' +
      'onmousedown:String onmousemove:String onmouseout:String onmouseover:String ' +
      'onmouseup:String onselect:String rendered:Boolean required:Boolean selected:Boolean ' +
      'style:String styleClass:String tabindex:String title:String value:Object',
  ],
  'apex:inputField': [
    true,
    'id:String label:String list:Object onblur:String onchange:String onclick:String ' +
      'ondblclick:String onfocus:String onkeydown:String onkeypress:String onkeyup:String ' +
      'onmousedown:String onmousemove:String onmouseout:String onmouseover:String ' +
      'onmouseup:String onselect:String rendered:Boolean required:Boolean ' +
      'showDatePicker:Boolean style:String styleClass:String taborderhint:Integer ' +
      'type:String=auto|date|datetime|datetime-local|email|month|number|range|search|tel|text|time|url|week ' +
      'value:Object',
  ],
  'apex:inputHidden': [true, 'id:String immediate:Boolean rendered:Boolean required:Boolean value:Object'],
  'apex:inputSecret': [
    true,
    'accesskey:String alt:String dir:String disabled:Boolean id:String immediate:Boolean ' +
      'label:String lang:String maxlength:Integer onblur:String onchange:String ' +
      'onclick:String ondblclick:String onfocus:String onkeydown:String onkeypress:String ' +
      'onkeyup:String onmousedown:String onmousemove:String onmouseout:String ' +
      'onmouseover:String onmouseup:String onselect:String readonly:Boolean ' +
      'redisplay:Boolean rendered:Boolean required:Boolean size:Integer style:String ' +
      'styleClass:String tabindex:String title:String value:Object',
  ],
  'apex:inputText': [
    true,
    'accesskey:String alt:String dir:String disabled:Boolean id:String label:String ' +
      'lang:String list:Object maxlength:Integer onblur:String onchange:String ' +
      'onclick:String ondblclick:String onfocus:String onkeydown:String onkeypress:String ' +
      'onkeyup:String onmousedown:String onmousemove:String onmouseout:String ' +
      'onmouseover:String onmouseup:String rendered:Boolean required:Boolean size:Integer ' +
      'style:String styleClass:String tabindex:String title:String value:Object',
  ],
  'apex:inputTextarea': [
    true,
    'accesskey:String cols:Integer dir:String disabled:Boolean id:String label:String ' +
      'lang:String onblur:String onchange:String onclick:String ondblclick:String ' +
      'onfocus:String onkeydown:String onkeypress:String onkeyup:String onmousedown:String ' +
      'onmousemove:String onmouseout:String onmouseover:String onmouseup:String ' +
      'onselect:String readonly:Boolean rendered:Boolean required:Boolean richText:Boolean ' +
      'rows:Integer style:String styleClass:String tabindex:String title:String ' +
      'value:Object',
  ],
  'apex:message': [
    true,
    'dir:String for:String id:String lang:String rendered:Boolean style:String ' +
      'styleClass:String title:String',
  ],
  'apex:messages': [
    true,
    'dir:String globalOnly:Boolean id:String lang:String layout:String rendered:Boolean ' +
      'style:String styleClass:String title:String',
  ],
  'apex:outputField': [
    true,
    'dir:String id:String label:String lang:String rendered:Boolean style:String ' +
      'styleClass:String title:String value:Object',
  ],
  'apex:outputLabel': [
    false,
    'accesskey:String dir:String escape:Boolean for:String id:String lang:String ' +
      'onblur:String onclick:String ondblclick:String onfocus:String onkeydown:String ' +
      'onkeypress:String onkeyup:String onmousedown:String onmousemove:String ' +
      'onmouseout:String onmouseover:String onmouseup:String rendered:Boolean style:String ' +
      'styleClass:String tabindex:String title:String value:Object',
  ],
  'apex:outputLink': [
    false,
    'accesskey:String charset:String coords:String dir:String disabled:Boolean ' +
      'hreflang:String id:String lang:String onblur:String onclick:String ondblclick:String ' +
      'onfocus:String onkeydown:String onkeypress:String onkeyup:String onmousedown:String ' +
      'onmousemove:String onmouseout:String onmouseover:String onmouseup:String rel:String ' +
      'rendered:Boolean rev:String shape:String style:String styleClass:String ' +
      'tabindex:String target:String title:String type:String value:Object',
  ],
  'apex:outputPanel': [
    false,
    'dir:String id:String lang:String layout:String onclick:String ondblclick:String ' +
      'onkeydown:String onkeypress:String onkeyup:String onmousedown:String ' +
      'onmousemove:String onmouseout:String onmouseover:String onmouseup:String ' +
      'rendered:Boolean style:String styleClass:String title:String',
  ],
  'apex:outputText': [
    false,
    'dir:String escape:Boolean id:String label:String lang:String rendered:Boolean ' +
      'style:String styleClass:String title:String value:Object',
  ],
  'apex:page': [
    false,
    'action:ApexPages.Action apiVersion:double applyBodyTag:Boolean applyHtmlTag:Boolean ' +
      'cache:Boolean contentType:String controller:String ' +
      'deferLastCommandUntilReady:Boolean docType:String expires:Integer extensions:String ' +
      'id:String label:String language:String lightningStylesheets:Boolean manifest:String ' +
      'name:String pageStyle:String readOnly:Boolean recordSetVar:String renderAs:String ' +
      'rendered:Boolean setup:Boolean showChat:Boolean showHeader:Boolean ' +
      'showQuickActionVfHeader:Boolean sidebar:Boolean standardController:String ' +
      'standardStylesheets:Boolean tabStyle:String title:String wizard:Boolean',
  ],
  'apex:pageBlock': [
    false,
    'dir:String helpTitle:String helpUrl:String id:String lang:String mode:String ' +
      'onclick:String ondblclick:String onkeydown:String onkeypress:String onkeyup:String ' +
      'onmousedown:String onmousemove:String onmouseout:String onmouseover:String ' +
      'onmouseup:String rendered:Boolean tabStyle:String title:String',
  ],
  'apex:pageBlockButtons': [
    false,
    'dir:String id:String lang:String location:String onclick:String ondblclick:String ' +
      'onkeydown:String onkeypress:String onkeyup:String onmousedown:String ' +
      'onmousemove:String onmouseout:String onmouseover:String onmouseup:String ' +
      'rendered:Boolean style:String styleClass:String title:String',
  ],
  'apex:pageBlockSection': [
    false,
    'collapsible:Boolean columns:Integer dir:String id:String lang:String onclick:String ' +
      'ondblclick:String onkeydown:String onkeypress:String onkeyup:String ' +
      'onmousedown:String onmousemove:String onmouseout:String onmouseover:String ' +
      'onmouseup:String rendered:Boolean showHeader:Boolean title:String',
  ],
  'apex:pageBlockSectionItem': [
    false,
    'dataStyle:String dataStyleClass:String dataTitle:String dir:String helpText:String ' +
      'id:String labelStyle:String labelStyleClass:String labelTitle:String lang:String ' +
      'onDataclick:String onDatadblclick:String onDatakeydown:String onDatakeypress:String ' +
      'onDatakeyup:String onDatamousedown:String onDatamousemove:String ' +
      'onDatamouseout:String onDatamouseover:String onDatamouseup:String ' +
      'onLabelclick:String onLabeldblclick:String onLabelkeydown:String ' +
      'onLabelkeypress:String onLabelkeyup:String onLabelmousedown:String ' +
      'onLabelmousemove:String onLabelmouseout:String onLabelmouseover:String ' +
      'onLabelmouseup:String rendered:Boolean',
  ],
  'apex:pageBlockTable': [
    false,
    'align:String border:String captionClass:String captionStyle:String ' +
      'cellpadding:String cellspacing:String columnClasses:String columns:Integer ' +
      'columnsWidth:String dir:String first:Integer footerClass:String frame:String ' +
      'headerClass:String id:String lang:String onclick:String ondblclick:String ' +
      'onkeydown:String onkeypress:String onkeyup:String onmousedown:String ' +
      'onmousemove:String onmouseout:String onmouseover:String onmouseup:String ' +
      'onRowClick:String onRowDblClick:String onRowMouseDown:String onRowMouseMove:String ' +
      'onRowMouseOut:String onRowMouseOver:String onRowMouseUp:String rendered:Boolean ' +
      'rowClasses:String rows:Integer rules:String style:String styleClass:String ' +
      'summary:String title:String value:Object var:String width:String',
  ],
  'apex:pageMessages': [false, 'escape:Boolean id:String rendered:Boolean showDetail:Boolean'],
  'apex:panelGrid': [
    false,
    'bgcolor:String border:Integer captionClass:String captionStyle:String ' +
      'cellpadding:String cellspacing:String columnClasses:String columns:Integer ' +
      'dir:String footerClass:String frame:String headerClass:String id:String lang:String ' +
      'onclick:String ondblclick:String onkeydown:String onkeypress:String onkeyup:String ' +
      'onmousedown:String onmousemove:String onmouseout:String onmouseover:String ' +
      'onmouseup:String rendered:Boolean rowClasses:String rules:String style:String ' +
      'styleClass:String summary:String title:String width:String',
  ],
  'apex:panelGroup': [false, 'id:String layout:String rendered:Boolean style:String styleClass:String'],
  'apex:param': [true, 'assignTo:Object id:String name:String value:Object'],
  'apex:repeat': [false, 'first:Integer id:String rendered:Boolean rows:Integer value:Object var:String'],
  'apex:selectList': [
    false,
    'accesskey:String dir:String disabled:Boolean disabledClass:String ' +
      'enabledClass:String id:String label:String lang:String multiselect:Boolean ' +
      'onblur:String onchange:String onclick:String ondblclick:String onfocus:String ' +
      'onkeydown:String onkeypress:String onkeyup:String onmousedown:String ' +
      'onmousemove:String onmouseout:String onmouseover:String onmouseup:String ' +
      'onselect:String readonly:Boolean rendered:Boolean required:Boolean size:Integer ' +
      'style:String styleClass:String tabindex:String title:String value:Object',
  ],
  'apex:selectOption': [
    false,
    'dir:String id:String itemDescription:String itemDisabled:Boolean itemEscaped:Boolean ' +
      'itemLabel:String itemValue:Object lang:String rendered:Boolean title:String ' +
      'value:Object',
  ],
  'apex:selectOptions': [false, 'id:String rendered:Boolean value:Object'],
  'apex:stylesheet': [true, 'id:String value:Object'],
  'apex:variable': [true, 'id:String rendered:Boolean value:Object var:String'],
};

/** The `completions` map of the response: component name → `{ simple, attribs }`. */
export function visualforceCompletions(): Record<string, VisualforceComponentCompletion> {
  return Object.fromEntries(
    Object.entries(STANDARD_COMPONENTS).map(([component, [simple, attributes]]) => [
      component,
      { simple, attribs: Object.fromEntries(attributes.split(' ').map(parseAttribute)) },
    ]),
  );
}

function parseAttribute(spec: string): [string, VisualforceAttributeCompletion] {
  const [name = '', typeAndValues = ''] = spec.split(':');
  const [type = '', values] = typeAndValues.split('=');
  if (type === 'Boolean') return [name, { type, values: ['true', 'false'] }];
  return [name, values === undefined ? { type } : { type, values: values.split('|') }];
}
