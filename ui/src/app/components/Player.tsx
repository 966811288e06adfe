// The replay player: rrweb's Replayer, scaled to fit, with play/pause, speed, skip inactivity
// and a scrubber annotated with what happened (clicks, pages, requests, errors, frustration).

import { Replayer } from '@rrweb/replay';
import '@rrweb/replay/dist/style.css';
import { useCallback, useEffect, useImperativeHandle, useRef, useState, type Ref } from 'react';
import type { RrwebEvent } from '../api';
import { clock } from '../format';
import { useKeys } from '../hooks';

export interface Mark {
  offsetMs: number;
  kind: 'click' | 'page_view' | 'network' | 'error' | 'frustration';
  bad?: boolean;
  title: string;
}

/** A stretch shaded on the scrubber (an incident window), as offsets. */
export interface Band {
  fromMs: number;
  toMs: number;
  title: string;
}

export interface PlayerHandle {
  /** Seeks to a moment, as an offset from the session's start. */
  seek: (offsetMs: number, play?: boolean) => void;
}

interface Props {
  events: RrwebEvent[];
  /** Foreign URLs the guard made inert in these events (shown, so a missing image is explained). */
  blocked?: number;
  /** The session's start (Unix ms); offsets are from here. */
  startMs: number;
  durationMs: number;
  marks: Mark[];
  /** Stretches with no interaction, shaded on the scrubber and skipped when asked. */
  idle: [number, number][];
  bands?: Band[];
  initialOffsetMs: number;
  /** Where the loaded events end (offset); later moments are asked for with `onOutside`. */
  windowEndMs: number;
  /** Start playing as soon as these events are shown (playback ran into them). */
  autoPlay: boolean;
  onOutside: (offsetMs: number, play: boolean) => void;
  onTime: (offsetMs: number) => void;
  handle: Ref<PlayerHandle>;
}

const SPEEDS = [1, 2, 4, 8];

export function Player({ events, startMs, durationMs, marks, idle, bands = [], initialOffsetMs, windowEndMs, autoPlay, onOutside, onTime, handle, blocked = 0 }: Props) {
  const viewport = useRef<HTMLDivElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const replayer = useRef<Replayer | null>(null);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const [box, setBox] = useState<{ w: number; h: number }>({ w: 0, h: 0 });
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(1);
  const [skip, setSkip] = useState(true);
  const [now, setNow] = useState(initialOffsetMs);
  const settings = useRef({ speed, skip });
  settings.current = { speed, skip };
  const onTimeRef = useRef(onTime);
  onTimeRef.current = onTime;
  const windowRef = useRef({ end: windowEndMs, outside: onOutside });
  windowRef.current = { end: windowEndMs, outside: onOutside };
  const durationRef = useRef(durationMs);
  durationRef.current = durationMs;

  // The replayer's clock starts at its first event; the session's at its first sighting.
  const firstEvent = events[0]?.timestamp ?? startMs;
  const lead = firstEvent - startMs;

  useEffect(() => {
    const root = frame.current;
    if (!root || events.length < 2) return;
    root.innerHTML = '';
    const r = new Replayer(events as never, {
      root,
      // A new window keeps the speed and skipping the viewer chose.
      speed: settings.current.speed,
      skipInactive: settings.current.skip,
      mouseTail: false,
      showWarning: false,
      triggerFocus: false,
      UNSAFE_replayCanvas: false,
    });
    replayer.current = r;
    r.on('resize', (d: unknown) => {
      const dim = d as { width: number; height: number };
      setSize({ w: dim.width, h: dim.height });
    });
    r.on('finish', () => {
      setPlaying(false);
      // Playback ran to the end of what is loaded, not of the session: load on and go on.
      if (windowRef.current.end < durationRef.current - 50) windowRef.current.outside(windowRef.current.end, true);
    });
    // Opened at its start, a replay shows its first page, not the blank frame before the first
    // full snapshot is applied (rrweb draws nothing for a pause before it).
    const firstFull = events.find((e) => e.type === 2)?.timestamp;
    const painted = firstFull !== undefined ? Math.max(0, firstFull - firstEvent) : 0;
    const start = Math.max(painted, initialOffsetMs - lead);
    if (autoPlay) {
      r.play(start);
      setPlaying(true);
    } else {
      r.pause(start);
      setPlaying(false);
    }
    setNow(start + lead);
    return () => {
      r.destroy();
      replayer.current = null;
    };
    // The initial offset only matters when a replay is first shown.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [events, lead]);

  useEffect(() => {
    replayer.current?.setConfig({ speed, skipInactive: skip });
  }, [speed, skip]);

  useEffect(() => {
    const el = viewport.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setBox({ w: el.clientWidth, h: el.clientHeight }));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // While playing, follow the replayer's clock.
  useEffect(() => {
    if (!playing) return;
    let raf = 0;
    let last = 0;
    const tick = (ts: number) => {
      const r = replayer.current;
      if (r && ts - last > 80) {
        last = ts;
        const t = r.getCurrentTime() + lead;
        setNow(t);
        onTimeRef.current(t);
      }
      raf = requestAnimationFrame(tick);
    };
    raf = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(raf);
  }, [playing, lead]);

  const seek = useCallback(
    (offsetMs: number, play?: boolean) => {
      const r = replayer.current;
      const t = Math.min(Math.max(0, offsetMs), durationMs);
      setNow(t);
      onTimeRef.current(t);
      if (!r) return;
      const keepPlaying = play ?? playing;
      if (t < lead || t > windowEndMs) {
        r.pause();
        setPlaying(false);
        onOutside(t, keepPlaying);
        return;
      }
      const at = Math.max(0, t - lead);
      if (keepPlaying) r.play(at);
      else r.pause(at);
      setPlaying(keepPlaying);
    },
    [durationMs, lead, playing, windowEndMs, onOutside],
  );
  useImperativeHandle(handle, () => ({ seek }), [seek]);

  const toggle = useCallback(() => {
    const r = replayer.current;
    if (!r) return;
    if (playing) {
      r.pause();
      setPlaying(false);
    } else if (now >= durationMs - 50) {
      seek(0, true);
    } else if (now < lead || now > windowEndMs) {
      onOutside(now, true);
    } else {
      r.play(Math.max(0, now - lead));
      setPlaying(true);
    }
  }, [playing, now, durationMs, lead, seek, windowEndMs, onOutside]);

  useKeys({
    ' ': toggle,
    ArrowLeft: () => seek(now - 5000),
    ArrowRight: () => seek(now + 5000),
  });

  const scale = size && box.w > 0 ? Math.min((box.w - 24) / size.w, (box.h - 24) / size.h, 1) : 1;
  const left = size ? Math.max(0, (box.w - size.w * scale) / 2) : 0;
  const top = size ? Math.max(0, (box.h - size.h * scale) / 2) : 0;
  const pct = (ms: number) => `${(Math.min(Math.max(ms, 0), durationMs) / Math.max(durationMs, 1)) * 100}%`;

  return (
    <>
      <div className="viewport" ref={viewport}>
        {events.length < 2 ? (
          <div className="state">
            <h2>No recording for this session</h2>
            <div>The backend named this session, but no replay reached Sightline. Is the recorder on the page?</div>
          </div>
        ) : (
          <div
            className="frame"
            ref={frame}
            style={{ transform: `translate(${left}px, ${top}px) scale(${scale})`, width: size?.w, height: size?.h }}
          />
        )}
      </div>
      <div className="controls">
        <button className="btn icon" onClick={toggle} aria-label={playing ? 'Pause' : 'Play'} title="Play / pause (space)">
          {playing ? '❚❚' : '▶'}
        </button>
        <span className="time">
          {clock(now, durationMs < 60_000)} / {clock(durationMs, durationMs < 60_000)}
        </span>
        <div
          className="scrubber"
          role="slider"
          aria-label="Replay position"
          aria-valuemin={0}
          aria-valuemax={durationMs}
          aria-valuenow={Math.round(now)}
          onClick={(e) => {
            const rect = e.currentTarget.getBoundingClientRect();
            seek(((e.clientX - rect.left) / rect.width) * durationMs);
          }}
        >
          {bands.map((b) => (
            <div key={b.fromMs} className="band incident" style={{ left: pct(b.fromMs), width: `calc(${pct(b.toMs)} - ${pct(b.fromMs)})` }} title={b.title} />
          ))}
          <div className="track" />
          {idle.map(([a, b]) => (
            <div key={a} className="inactive" style={{ left: pct(a), width: `calc(${pct(b)} - ${pct(a)})` }} title="No activity" />
          ))}
          <div className="fill" style={{ width: pct(now) }} />
          {marks.map((m, i) => (
            <div key={i} className={`mark ${m.kind} ${m.bad ? 'bad' : ''}`} style={{ left: pct(m.offsetMs) }} title={`${clock(m.offsetMs)} ${m.title}`} />
          ))}
          <div className="knob" style={{ left: pct(now) }} />
        </div>
        <select className="speed" value={speed} onChange={(e) => setSpeed(Number(e.target.value))} aria-label="Speed">
          {SPEEDS.map((s) => (
            <option key={s} value={s}>
              {s}×
            </option>
          ))}
        </select>
        <label className="toggle">
          <input type="checkbox" checked={skip} onChange={(e) => setSkip(e.target.checked)} /> Skip inactivity
        </label>
        {blocked > 0 && (
          <span className="muted small" title="The recording points at other sites than the session's own pages; the player does not fetch them, so those sites cannot tell when or where it was watched.">
            {blocked} outside {blocked === 1 ? 'resource' : 'resources'} not loaded
          </span>
        )}
      </div>
    </>
  );
}
