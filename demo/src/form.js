/**
 * form.html: a shared form. Every field carries `data-coedit`, so starting Coedit binds them all;
 * the only page-specific code keeps Enter in a field from submitting (reloading) the page.
 */
import { startDemo } from './demo.js'

document.getElementById('post-form').addEventListener('submit', (event) => event.preventDefault())

startDemo()
