//! Replay storage ratio: a shopper's session of several minutes, recorded in Chromium by the
//! served recorder from a storefront-like single-page app, then raw rrweb JSON bytes against
//! the bytes Sightline stores for it.
//!
//!     cargo bench --bench replay_storage -- [--seconds 180]
//!
//! Needs Chromium and tests/clients installed (`make test` installs both).

use std::path::Path;
use std::process::Command;

use axum::response::Html;
use axum::routing::get;
use axum::Router;
use sightline_store::views;
use sightline_tests::Engine;

/// A product grid (48 cards), a live "people viewing" counter that re-renders every second,
/// a search box, a product modal and two routes, all client-side.
fn page(engine: std::net::SocketAddr) -> String {
    format!(
        r##"<!doctype html><html><head><meta charset="utf-8"><title>Sightline Shoes</title>
<script src="http://{engine}/sightline.js" data-user-id="bench-shopper"></script>
<style>
body{{font-family:system-ui,sans-serif;margin:0;background:#f8fafc;color:#0f172a}}
header{{display:flex;gap:16px;align-items:center;padding:12px 24px;background:#0f172a;color:#fff;position:sticky;top:0}}
header a{{color:#cbd5e1;cursor:pointer}} #search{{margin-left:auto;padding:6px 10px;border-radius:6px;border:0}}
main{{display:grid;grid-template-columns:repeat(4,1fr);gap:16px;padding:24px}}
.card{{background:#fff;border-radius:10px;padding:14px;box-shadow:0 1px 3px #0002}}
.card h3{{margin:4px 0;font-size:15px}} .price{{color:#2563eb;font-weight:600}}
.swatch{{height:90px;border-radius:8px;margin-bottom:8px}}
#modal{{position:fixed;inset:20% 30%;background:#fff;padding:24px;border-radius:12px;box-shadow:0 10px 40px #0005;display:none}}
#live{{font-size:12px;color:#94a3b8}}
</style></head><body>
<header><strong>Sightline Shoes</strong><a id="nav-shop">Shop</a><a id="nav-cart">Cart (<span id="count">0</span>)</a>
<span id="live"></span><input id="search" placeholder="Search shoes" aria-label="Search"></header>
<main id="main"></main>
<div id="modal"><h2 id="m-title"></h2><p id="m-desc"></p><button class="add">Add to cart</button> <button class="close">Close</button></div>
<script>
const colors=['#fca5a5','#fdba74','#fde047','#86efac','#67e8f9','#a5b4fc','#f0abfc','#cbd5e1'];
const names=['Runner','Trail','Court','Loafer','Boot','Sneaker','Sandal','Derby'];
const products=Array.from({{length:48}},(_, i)=>({{id:i,name:`${{names[i%8]}} ${{100+i}}`,price:(39+i*3.5).toFixed(2),color:colors[(i*3)%8],desc:`Comfortable ${{names[i%8].toLowerCase()}} made of recycled materials, model ${{100+i}}.`}}));
let cart=[];
function shop(){{document.getElementById('main').innerHTML=products.map(p=>`<div class="card" id="p-${{p.id}}"><div class="swatch" style="background:${{p.color}}"></div><h3>${{p.name}}</h3><div class="price">€${{p.price}}</div><p>${{p.desc}}</p><button class="open">View</button></div>`).join('');
 document.querySelectorAll('.card .open').forEach((b,i)=>b.onclick=()=>open(products[i]));}}
function cartView(){{document.getElementById('main').innerHTML=cart.length?cart.map(p=>`<div class="card"><h3>${{p.name}}</h3><div class="price">€${{p.price}}</div></div>`).join(''):'<p>Your cart is empty.</p>';}}
function open(p){{const m=document.getElementById('modal');m.style.display='block';document.getElementById('m-title').textContent=p.name;document.getElementById('m-desc').textContent=p.desc;m.querySelector('.add').onclick=()=>{{cart.push(p);document.getElementById('count').textContent=cart.length;fetch('/api/cart',{{method:'POST',body:JSON.stringify({{id:p.id}})}});}};}}
document.querySelector('#modal .close').onclick=()=>document.getElementById('modal').style.display='none';
document.getElementById('nav-shop').onclick=()=>{{history.pushState({{}},'','/shop');shop();}};
document.getElementById('nav-cart').onclick=()=>{{history.pushState({{}},'','/cart');cartView();}};
setInterval(()=>{{document.getElementById('live').textContent=`${{20+Math.floor(Math.random()*30)}} people viewing`;}},1000);
shop();
</script></body></html>"##
    )
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    let seconds: u64 = argv
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| argv.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(180);
    let e = Engine::start();
    let html = page(e.http);
    let app = Router::new()
        .route("/", get(move || async move { Html(html) }))
        .route("/api/cart", axum::routing::post(|| async { "{}" }));
    let listener = e
        .runtime()
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    e.runtime()
        .spawn(async move { axum::serve(listener, app).await });

    let clients = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients");
    let out = Command::new("node")
        .current_dir(&clients)
        .args([
            "session.mjs",
            &format!("http://{addr}/"),
            &seconds.to_string(),
        ])
        .output()
        .expect("node runs");
    assert!(
        out.status.success(),
        "session run failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run: serde_json::Value = serde_json::from_slice(&out.stdout).expect("session json");
    let id = run["sessionId"].as_str().expect("session id").to_owned();
    let s = e
        .read(|c| views::session_view(c, &id))
        .expect("query")
        .expect("session stored");
    let raw = s.raw_bytes as f64;
    let stored = (s.stored_bytes as f64).max(1.0);
    let minutes = (s.last_seen_ms.unwrap_or(0) - s.first_seen_ms.unwrap_or(0)) as f64 / 60_000.0;
    println!(
        "replay storage: {minutes:.1} min session, {} events in {} batches, {} rounds of interaction",
        s.event_count, s.batch_count, run["rounds"]
    );
    println!(
        "  raw rrweb JSON {:.0} KiB, stored {:.0} KiB: ratio {:.1}x",
        raw / 1024.0,
        stored / 1024.0,
        raw / stored
    );
}
