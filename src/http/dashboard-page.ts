// The dashboard served at `GET {base}/ui`: one self-contained page (inline CSS and script, no
// framework, no external asset), kept as a string module so it ships inside the ESM and CJS
// bundles and works the same under tsx and vitest — no asset copying, no file read at run time.
// The handler replaces __BASE_PATH__ and __AUTH_PROVIDERS__. Data is rendered with textContent
// only (never innerHTML), so CRM values and error messages cannot inject markup. After the first
// data load, <body data-ready> holds the milliseconds since navigation (for hosts' own tests).

const STYLE = `
:root{--fg:#1b1f24;--muted:#4d5560;--line:#d0d5dc;--bg:#f6f7f9;--card:#fff;--accent:#0b57d0;--ok:#0a6b2d;--okbg:#e3f3e8;--bad:#a50e0e;--badbg:#fde7e5;--warn:#6b4100;--warnbg:#fdf0cf}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans JP",sans-serif;color:var(--fg);background:var(--bg)}
header,main{max-width:64rem;margin:0 auto;padding:1rem}
header{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between}
h1{font-size:1.5rem;margin:.25rem 0}h2{font-size:1.2rem;margin:0 0 .5rem}h3{font-size:1.05rem;margin:1rem 0 .5rem}
section,.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin:0 0 1rem}
button{font:inherit;min-height:2.75rem;padding:.4rem 1rem;border-radius:6px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}button.danger{background:#fff;color:var(--bad);border-color:var(--bad)}
button:disabled{opacity:.6;cursor:not-allowed}
:focus-visible{outline:3px solid #f9ab00;outline-offset:2px}
select{font:inherit;min-height:2.75rem;max-width:100%;padding:.25rem;border:1px solid var(--muted);border-radius:6px;background:#fff;color:var(--fg)}
.row{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.muted{color:var(--muted)}
.badge{display:inline-block;padding:.1rem .6rem;border-radius:999px;font-size:.875rem;font-weight:600}
.connected{background:var(--okbg);color:var(--ok)}.reconnect_needed{background:var(--badbg);color:var(--bad)}.paused{background:var(--warnbg);color:var(--warn)}
.running{background:#e3ecfd;color:#0842a0}.succeeded{background:var(--okbg);color:var(--ok)}.failed{background:var(--badbg);color:var(--bad)}
ul.plain{list-style:none;margin:0;padding:0}
.integration{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;border-top:1px solid var(--line);padding:.75rem 0}
.integration:first-child{border-top:0}
progress{width:100%;height:1.25rem}
dl.counts{display:grid;grid-template-columns:repeat(auto-fill,minmax(7rem,1fr));gap:.5rem;margin:.5rem 0}
dl.counts div{background:var(--bg);border-radius:6px;padding:.4rem .6rem}dl.counts dt{font-size:.8rem;color:var(--muted)}dl.counts dd{margin:0;font-size:1.2rem;font-weight:600}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.4rem;border-bottom:1px solid var(--line);vertical-align:top}
details{border:1px solid var(--line);border-radius:6px;padding:.5rem .75rem;margin:.5rem 0}summary{cursor:pointer;font-weight:600}
ol.timeline{margin:0;padding-left:1.25rem}ol.timeline li{margin:.25rem 0}ol.timeline li.muted{list-style:none;margin-left:-1.25rem}
.notice{padding:.5rem .75rem;border-radius:6px;margin:0 0 1rem}.notice.error{background:var(--badbg);color:var(--bad)}.notice.info{background:#e3ecfd;color:#0842a0}
.notice:empty{display:none}
@media (max-width:40rem){thead{display:none}table,tbody,tr,td{display:block;width:100%}tr{border-bottom:1px solid var(--line);padding:.5rem 0}td{border:0;padding:.2rem 0}td[data-label]::before{content:attr(data-label);display:block;font-size:.8rem;color:var(--muted)}}
`;

const SCRIPT = `
(function(){
'use strict';
var BASE='__BASE_PATH__';var AUTH=__AUTH_PROVIDERS__;
var state={integrations:[],selected:null,poll:null};
var $=function(id){return document.getElementById(id)};
function h(tag,attrs){var el=document.createElement(tag);if(attrs)for(var k in attrs){var v=attrs[k];if(v==null||v===false)continue;if(k==='text')el.textContent=v;else if(k.slice(0,2)==='on')el.addEventListener(k.slice(2),v);else el.setAttribute(k,v===true?'':v)}for(var i=2;i<arguments.length;i++){var c=arguments[i];if(c==null)continue;if(Array.isArray(c))c.forEach(function(x){if(x!=null)el.appendChild(x)});else el.appendChild(typeof c==='string'?document.createTextNode(c):c)}return el}
function clear(el){while(el.firstChild)el.removeChild(el.firstChild);return el}
function api(method,path,body){var init={method:method,headers:{Accept:'application/json'}};if(body!==undefined){init.headers['Content-Type']='application/json';init.body=JSON.stringify(body)}return fetch(BASE+path,init).then(function(r){if(r.status===204)return null;return r.json().then(function(data){if(!r.ok){var e=new Error(data&&data.error?data.error.message:'Request failed ('+r.status+')');e.body=data;throw e}return data})})}
function say(text,kind){var n=$('notice');n.className='notice '+(kind||'info');n.textContent=text}
function fail(e){var f=e.body&&e.body.error&&e.body.error.fields;say(e.message+(f?' — '+f.map(function(x){return x.field+': '+x.message}).join('; '):''),'error')}
var LABEL={connected:'Connected',reconnect_needed:'Reconnect needed',paused:'Paused',running:'Running',succeeded:'Succeeded',failed:'Failed'};
function badge(s){return h('span',{class:'badge '+s,text:LABEL[s]||s})}
function when(iso){if(!iso)return 'never';var d=new Date(iso);return d.toLocaleString()}
function connectButtons(){var box=clear($('connect'));if(!AUTH.length){box.appendChild(h('p',{class:'muted',text:'No OAuth provider is configured on this server.'}));return}AUTH.forEach(function(p){box.appendChild(h('button',{type:'button',onclick:function(){connect(p)}},'Connect '+title(p)))})}
function title(p){return p.charAt(0).toUpperCase()+p.slice(1)}
function connect(p){say('Opening '+title(p)+'…');api('POST','/auth/'+encodeURIComponent(p),{returnTo:location.pathname}).then(function(r){location.assign(r.url)},fail)}
function load(){return api('GET','/integrations').then(function(r){state.integrations=r.integrations;if(!state.selected||!r.integrations.some(function(i){return i.id===state.selected}))state.selected=r.integrations.length?r.integrations[0].id:null;renderList();return refresh()},fail).then(function(){if(!document.body.dataset.ready)document.body.dataset.ready=String(Math.round(performance.now()))})}
function renderList(){var list=clear($('integrations'));if(!state.integrations.length){list.appendChild(h('li',{class:'muted',text:'No CRM connected yet.'}));return}state.integrations.forEach(function(i){var sel=i.id===state.selected;list.appendChild(h('li',{class:'integration'},h('div',null,h('strong',{text:title(i.provider)+' · '+i.orgId}),' ',badge(i.connection),h('div',{class:'muted',text:i.instanceUrl+' · last sync '+when(i.lastSyncAt)})),h('div',{class:'row'},i.connection==='reconnect_needed'&&AUTH.indexOf(i.provider)>=0?h('button',{type:'button',onclick:function(){connect(i.provider)}},'Reconnect'):null,h('button',{type:'button',class:sel?'':'secondary','aria-pressed':sel?'true':'false',onclick:function(){state.selected=i.id;renderList();refresh()}},sel?'Selected':'Manage'))))})}
function current(){return state.integrations.filter(function(i){return i.id===state.selected})[0]}
function refresh(){var i=current();$('detail').hidden=!i;if(!i)return Promise.resolve();var id=encodeURIComponent(i.id);$('detail-title').textContent=title(i.provider)+' · '+i.orgId;return Promise.all([api('GET','/integrations/'+id+'/status'),api('GET','/integrations/'+id+'/errors'),api('GET','/integrations/'+id+'/logs?limit=20')]).then(function(r){renderStatus(r[0]);renderErrors(r[1].errors);renderTimeline(r[2].logs)},fail)}
function renderStatus(s){var box=clear($('run'));var run=s.run;var busy=run&&run.state==='running';['sync-contacts','sync-campaigns','resync'].forEach(function(b){$(b).disabled=!!busy||s.integration.connection!=='connected'});if(!run){box.appendChild(h('p',{class:'muted',text:'No sync started from this page yet.'}))}else{var p=Object.assign({},run.progress,run.result);box.appendChild(h('p',null,'Latest run: '+(run.entityType==='contact'?'contacts':'campaigns')+' ',badge(run.state),' ',h('span',{class:'muted',text:'started '+when(run.startedAt)})));var prog=h('progress',{'aria-label':'Sync progress',max:'1'});if(!busy)prog.value=1;box.appendChild(prog);box.appendChild(h('dl',{class:'counts'},['processed','sent','created','updated','unchanged','failed','apiCalls'].map(function(k){return h('div',null,h('dt',{text:k==='apiCalls'?'API calls':k}),h('dd',{text:String(p[k]||0)}))})));if(run.error)box.appendChild(h('p',{class:'notice error',text:run.error.code+': '+run.error.message}))}if(busy){if(!state.poll)state.poll=setTimeout(function(){state.poll=null;refresh()},700)}else if(run&&state.lastState==='running'){say('Sync finished: '+(run.result?run.result.processed+' processed, '+run.result.failed+' failed':run.state));load()}state.lastState=run&&run.state}
function renderErrors(errors){var box=clear($('errors'));if(!errors.length){box.appendChild(h('p',{class:'muted',text:'No failed records.'}));return}errors.forEach(function(g){box.appendChild(h('details',null,h('summary',{text:g.code+' — '+g.count+' record'+(g.count===1?'':'s')}),h('p',{text:g.message}),h('ul',null,g.examples.map(function(x){return h('li',null,h('code',{text:x.externalId}),' ('+x.entityType+'): '+x.message)}))))})}
function renderTimeline(logs){var box=clear($('timeline'));if(!logs.length){box.appendChild(h('li',{class:'muted',text:'Nothing yet.'}));return}logs.forEach(function(l){box.appendChild(h('li',null,h('time',{datetime:l.startedAt,text:when(l.startedAt)}),' — '+l.syncType+' '+l.entityType+' sync: '+l.successCount+' ok, '+l.errorCount+' failed'+(l.completedAt?'':' (running)')))})}
function startSync(kind){var i=current();if(!i)return;var call=kind==='resync'?api('POST','/integrations/'+encodeURIComponent(i.id)+'/resync',{}):api('POST','/sync/'+kind,{integrationId:i.id});call.then(function(){say('Sync started.');state.lastState='running';refresh()},fail)}
var mapping={rows:[],crmFields:[],hostFields:[],suggestions:[]};
function openMappings(){var i=current();if(!i)return;var id=encodeURIComponent(i.id);say('Loading fields…');Promise.all([api('GET','/integrations/'+id+'/field-mappings'),api('GET','/integrations/'+id+'/field-mappings/suggestions')]).then(function(r){mapping.rows=r[0].fieldMappings.map(function(m){return{hostField:m.hostField,crmField:m.crmField,fieldType:m.fieldType,syncDirection:m.syncDirection||'bidirectional'}});mapping.crmFields=r[1].crmFields;mapping.hostFields=r[1].hostFields;mapping.suggestions=r[1].suggestions;say('Fields loaded.');renderMappings()},fail)}
function renderMappings(){var box=clear($('mapping-editor'));box.hidden=false;var sug=h('div',null,h('h3',{text:'Suggestions'}));if(!mapping.suggestions.length)sug.appendChild(h('p',{class:'muted',text:'No suggestions.'}));else{sug.appendChild(h('ul',null,mapping.suggestions.map(function(s){return h('li',null,h('strong',{text:hostLabel(s.hostField)+' → '+s.crmField}),' '+Math.round(s.confidence*100)+'% — '+s.reason)})));sug.appendChild(h('button',{type:'button',class:'secondary',onclick:applySuggestions},'Use suggestions'))}box.appendChild(sug);var body=h('tbody');mapping.rows.forEach(function(row,idx){var crm=h('select',{'aria-label':'CRM field for '+row.hostField,onchange:function(e){row.crmField=e.target.value;var f=mapping.crmFields.filter(function(c){return c.name===row.crmField})[0];if(f)row.fieldType=f.fieldType}},mapping.crmFields.map(function(c){return h('option',{value:c.name,selected:c.name===row.crmField},c.label+' ('+c.name+')')}));var dir=h('select',{'aria-label':'Direction for '+row.hostField,onchange:function(e){row.syncDirection=e.target.value}},[['bidirectional','Both ways'],['to_crm','To CRM'],['from_crm','From CRM']].map(function(d){return h('option',{value:d[0],selected:d[0]===row.syncDirection},d[1])}));body.appendChild(h('tr',null,h('td',{'data-label':'Host field',text:hostLabel(row.hostField)}),h('td',{'data-label':'CRM field'},crm),h('td',{'data-label':'Direction'},dir),h('td',null,h('button',{type:'button',class:'danger','aria-label':'Remove mapping of '+row.hostField,onclick:function(){mapping.rows.splice(idx,1);renderMappings()}},'Remove'))))});box.appendChild(h('h3',{text:'Mappings'}));box.appendChild(mapping.rows.length?h('table',null,h('thead',null,h('tr',null,h('th',{text:'Host field'}),h('th',{text:'CRM field'}),h('th',{text:'Direction'}),h('th',null,h('span',{class:'muted',text:'Action'})))),body):h('p',{class:'muted',text:'No mappings: standard fields sync by name.'}));box.appendChild(h('div',{class:'row'},h('button',{type:'button',id:'save-mappings',onclick:saveMappings},'Save mappings')))}
function hostLabel(name){var f=mapping.hostFields.filter(function(x){return x.name===name})[0];return f&&f.label&&f.label!==name?name+' ('+f.label+')':name}
function applySuggestions(){mapping.suggestions.forEach(function(s){if(!mapping.rows.some(function(r){return r.hostField===s.hostField}))mapping.rows.push({hostField:s.hostField,crmField:s.crmField,fieldType:s.fieldType,syncDirection:'bidirectional'})});renderMappings();say(mapping.rows.length+' mappings ready to save.')}
function saveMappings(){var i=current();api('PUT','/integrations/'+encodeURIComponent(i.id)+'/field-mappings',{fieldMappings:mapping.rows}).then(function(r){mapping.rows=r.fieldMappings;say('Saved '+r.fieldMappings.length+' field mappings.');renderMappings()},fail)}
document.addEventListener('DOMContentLoaded',function(){connectButtons();$('sync-contacts').addEventListener('click',function(){startSync('contacts')});$('sync-campaigns').addEventListener('click',function(){startSync('campaigns')});$('resync').addEventListener('click',function(){startSync('resync')});$('open-mappings').addEventListener('click',openMappings);$('reload').addEventListener('click',load);load()});
})();
`;

const BODY = `
<header><h1>CRM integrations</h1><button type="button" id="reload" class="secondary">Refresh</button></header>
<main>
<p id="notice" class="notice info" role="status" aria-live="polite"></p>
<section aria-labelledby="connect-title"><h2 id="connect-title">Connect a CRM</h2><div id="connect" class="row"></div></section>
<section aria-labelledby="list-title"><h2 id="list-title">Your integrations</h2><ul id="integrations" class="plain"></ul></section>
<section id="detail" aria-labelledby="detail-title" hidden>
<h2 id="detail-title"></h2>
<div class="row"><button type="button" id="sync-contacts">Sync contacts</button><button type="button" id="sync-campaigns" class="secondary">Sync campaigns</button><button type="button" id="resync" class="secondary">Resync</button></div>
<h3>Sync status</h3><div id="run" aria-live="polite"></div>
<h3>Errors by code</h3><div id="errors"></div>
<h3>Field mappings</h3><button type="button" id="open-mappings" class="secondary">Edit field mappings</button><div id="mapping-editor" hidden></div>
<h3>Activity</h3><ol id="timeline" class="timeline"></ol>
</section>
</main>`;

/** The dashboard page with `__BASE_PATH__` and `__AUTH_PROVIDERS__` placeholders. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>CRM integrations</title><style>${STYLE}</style></head>
<body>${BODY}<script>${SCRIPT}</script></body></html>`;
