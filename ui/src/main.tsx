import { render } from "preact";
import { App } from "./app";
import { installLinkInterception } from "./router";
import "./styles.css";
import "./panels.css";

installLinkInterception();
render(<App />, document.getElementById("app")!);
