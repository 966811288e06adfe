// First: it mends the browser's language before any library reads it.
import './locale-guard';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { Crashed } from './components/common';
import './styles.css';

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <Crashed>
        <App />
      </Crashed>
    </StrictMode>,
  );
}
