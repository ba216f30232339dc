// A state machine: object tables of transitions, dispatch by computed keys, history.
const machine = {
  initial: "idle",
  states: {
    idle: { on: { START: "running" } },
    running: { on: { PAUSE: "paused", STOP: "idle", TICK: "running" } },
    paused: { on: { RESUME: "running", STOP: "idle" } },
  },
};
function interpret(def) {
  let state = def.initial, ticks = 0;
  const history = [state];
  return {
    send(event) {
      const next = def.states[state].on[event];
      if (!next) return false;
      if (event === "TICK") ticks++;
      state = next;
      history.push(state);
      return true;
    },
    get state() { return state },
    get report() { return `${history.join(">")} ticks=${ticks}` },
  };
}
const service = interpret(machine);
const accepted = ["START", "TICK", "TICK", "PAUSE", "TICK", "RESUME", "STOP", "STOP"].map(e => service.send(e));
console.log(accepted.map(Number).join(""), service.state);
console.log(service.report);
